/**
 * A small reverse-mode differentiation tape over row-major matrices, for DADC's networks.
 * They are tiny (the paper's AIS has 5 units) and recurrent, so per-op overhead decides the
 * speed: one tfjs kernel launch costs more than a whole 5x5 product in plain JavaScript, and
 * tfjs-core registers no gradients under Node (the other learners write their backward
 * passes by hand for the same reason). Nodes record their backward step; backward() runs
 * them in reverse order of creation. Losses seed the gradient of their inputs directly.
 */

export class Matrix {
  readonly grad: Float64Array;
  constructor(
    readonly value: Float64Array,
    readonly rows: number,
    readonly cols: number,
    /** Parameters keep their gradient across backward passes until zeroed. */
    readonly parameter = false,
  ) {
    this.grad = new Float64Array(value.length);
  }
}

export class Tape {
  private readonly steps: (() => void)[] = [];

  /** A tape that does not record (acting: forward passes only). */
  constructor(private readonly recording = true) {}

  constant(value: ArrayLike<number>, rows: number, cols: number): Matrix {
    return new Matrix(Float64Array.from(value), rows, cols);
  }

  /** x [r, i] times w [i, o] plus bias b [1, o]. */
  dense(x: Matrix, w: Matrix, b: Matrix): Matrix {
    const { rows } = x;
    const inputs = w.rows;
    const outputs = w.cols;
    if (x.cols !== inputs) throw new Error(`dense: input width ${x.cols} does not match ${inputs}`);
    const out = new Matrix(new Float64Array(rows * outputs), rows, outputs);
    for (let r = 0; r < rows; r++) {
      for (let o = 0; o < outputs; o++) {
        let sum = b.value[o];
        for (let i = 0; i < inputs; i++) sum += x.value[r * inputs + i] * w.value[i * outputs + o];
        out.value[r * outputs + o] = sum;
      }
    }
    this.record(() => {
      for (let r = 0; r < rows; r++) {
        for (let o = 0; o < outputs; o++) {
          const g = out.grad[r * outputs + o];
          if (g === 0) continue;
          b.grad[o] += g;
          for (let i = 0; i < inputs; i++) {
            w.grad[i * outputs + o] += x.value[r * inputs + i] * g;
            x.grad[r * inputs + i] += w.value[i * outputs + o] * g;
          }
        }
      }
    });
    return out;
  }

  tanh(x: Matrix): Matrix {
    const out = this.map(x, Math.tanh);
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) x.grad[k] += out.grad[k] * (1 - out.value[k] * out.value[k]);
    });
    return out;
  }

  sigmoid(x: Matrix): Matrix {
    const out = this.map(x, (v) => 1 / (1 + Math.exp(-v)));
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) x.grad[k] += out.grad[k] * out.value[k] * (1 - out.value[k]);
    });
    return out;
  }

  add(a: Matrix, b: Matrix): Matrix {
    const out = this.zip(a, b, (x, y) => x + y);
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) {
        a.grad[k] += out.grad[k];
        b.grad[k] += out.grad[k];
      }
    });
    return out;
  }

  mul(a: Matrix, b: Matrix): Matrix {
    const out = this.zip(a, b, (x, y) => x * y);
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) {
        a.grad[k] += out.grad[k] * b.value[k];
        b.grad[k] += out.grad[k] * a.value[k];
      }
    });
    return out;
  }

  /** sum_c a[r, c] * b[r, c] of every row [rows, 1]: one output of several heads picked by a one-hot row. */
  rowDot(a: Matrix, b: Matrix): Matrix {
    if (a.rows !== b.rows || a.cols !== b.cols) throw new Error(`rowDot: shapes [${a.rows}, ${a.cols}] and [${b.rows}, ${b.cols}] differ`);
    const { rows, cols } = a;
    const out = new Matrix(new Float64Array(rows), rows, 1);
    for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out.value[r] += a.value[r * cols + c] * b.value[r * cols + c];
    this.record(() => {
      for (let r = 0; r < rows; r++) {
        for (let c = 0; c < cols; c++) {
          a.grad[r * cols + c] += out.grad[r] * b.value[r * cols + c];
          b.grad[r * cols + c] += out.grad[r] * a.value[r * cols + c];
        }
      }
    });
    return out;
  }

  /** (1 - z) * a + z * b, elementwise: the GRU's interpolation. */
  interpolate(z: Matrix, a: Matrix, b: Matrix): Matrix {
    const out = new Matrix(new Float64Array(z.value.length), z.rows, z.cols);
    for (let k = 0; k < out.value.length; k++) out.value[k] = (1 - z.value[k]) * a.value[k] + z.value[k] * b.value[k];
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) {
        const g = out.grad[k];
        z.grad[k] += g * (b.value[k] - a.value[k]);
        a.grad[k] += g * (1 - z.value[k]);
        b.grad[k] += g * z.value[k];
      }
    });
    return out;
  }

  /** Every row r of x times keep[r] (a constant: episode restarts). */
  scaleRows(x: Matrix, keep: ArrayLike<number>, offset: number): Matrix {
    const out = new Matrix(new Float64Array(x.value.length), x.rows, x.cols);
    for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) out.value[r * x.cols + c] = x.value[r * x.cols + c] * keep[offset + r];
    this.record(() => {
      for (let r = 0; r < x.rows; r++) for (let c = 0; c < x.cols; c++) x.grad[r * x.cols + c] += out.grad[r * x.cols + c] * keep[offset + r];
    });
    return out;
  }

  /** Columns [start, start + width) of x. */
  columns(x: Matrix, start: number, width: number): Matrix {
    const out = new Matrix(new Float64Array(x.rows * width), x.rows, width);
    for (let r = 0; r < x.rows; r++) for (let c = 0; c < width; c++) out.value[r * width + c] = x.value[r * x.cols + start + c];
    this.record(() => {
      for (let r = 0; r < x.rows; r++) for (let c = 0; c < width; c++) x.grad[r * x.cols + start + c] += out.grad[r * width + c];
    });
    return out;
  }

  /** [a, b] side by side (same rows). */
  concatColumns(a: Matrix, b: Matrix): Matrix {
    const cols = a.cols + b.cols;
    const out = new Matrix(new Float64Array(a.rows * cols), a.rows, cols);
    for (let r = 0; r < a.rows; r++) {
      for (let c = 0; c < a.cols; c++) out.value[r * cols + c] = a.value[r * a.cols + c];
      for (let c = 0; c < b.cols; c++) out.value[r * cols + a.cols + c] = b.value[r * b.cols + c];
    }
    this.record(() => {
      for (let r = 0; r < a.rows; r++) {
        for (let c = 0; c < a.cols; c++) a.grad[r * a.cols + c] += out.grad[r * cols + c];
        for (let c = 0; c < b.cols; c++) b.grad[r * b.cols + c] += out.grad[r * cols + a.cols + c];
      }
    });
    return out;
  }

  /** The matrices stacked by rows (same columns). */
  concatRows(parts: readonly Matrix[]): Matrix {
    const cols = parts[0].cols;
    const rows = parts.reduce((sum, p) => sum + p.rows, 0);
    const out = new Matrix(new Float64Array(rows * cols), rows, cols);
    let at = 0;
    for (const p of parts) {
      out.value.set(p.value, at);
      at += p.value.length;
    }
    this.record(() => {
      let from = 0;
      for (const p of parts) {
        for (let k = 0; k < p.value.length; k++) p.grad[k] += out.grad[from + k];
        from += p.value.length;
      }
    });
    return out;
  }

  /** Rows [start, start + count) of x. */
  rowsOf(x: Matrix, start: number, count: number): Matrix {
    const out = new Matrix(x.value.slice(start * x.cols, (start + count) * x.cols), count, x.cols);
    this.record(() => {
      for (let k = 0; k < out.value.length; k++) x.grad[start * x.cols + k] += out.grad[k];
    });
    return out;
  }

  /** Runs the recorded backward steps, newest first (seed the outputs' grad first). */
  backward(): void {
    for (let k = this.steps.length - 1; k >= 0; k--) this.steps[k]();
    this.steps.length = 0;
  }

  private record(step: () => void): void {
    if (this.recording) this.steps.push(step);
  }

  private map(x: Matrix, f: (v: number) => number): Matrix {
    const out = new Matrix(new Float64Array(x.value.length), x.rows, x.cols);
    for (let k = 0; k < out.value.length; k++) out.value[k] = f(x.value[k]);
    return out;
  }

  private zip(a: Matrix, b: Matrix, f: (x: number, y: number) => number): Matrix {
    if (a.value.length !== b.value.length) throw new Error(`shapes [${a.rows}, ${a.cols}] and [${b.rows}, ${b.cols}] differ`);
    const out = new Matrix(new Float64Array(a.value.length), a.rows, a.cols);
    for (let k = 0; k < out.value.length; k++) out.value[k] = f(a.value[k], b.value[k]);
    return out;
  }
}
