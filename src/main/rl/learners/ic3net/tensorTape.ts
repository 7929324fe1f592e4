/**
 * Reverse-mode differentiation over tfjs tensors, for IC3Net's graph-coupled and recurrent
 * networks. tfjs-core registers no gradients under Node (its gradient files ship only as
 * ESM that Node cannot resolve), and IC3Net's agents are coupled through their messages, so
 * the per-agent fast MLP path (nn/fastMlp.ts) does not apply. Each op records its backward
 * step with tfjs ops; backward() runs them in reverse order of creation. Every tensor an op
 * makes is left to the caller's tf.tidy.
 *
 * Shapes follow the agent-batched layout: activations [n, B, width] (agents, samples, width),
 * per-agent weights [n, in, out], per-agent biases [n, 1, out].
 */
import * as tf from '@tensorflow/tfjs-core';

export class Node {
  /** The gradient accumulated so far (null: none reached it). */
  grad: tf.Tensor | null = null;
  constructor(
    readonly value: tf.Tensor,
    /** Whether gradients flow into it (a parameter or anything computed from one). */
    readonly tracked: boolean,
    /** Per-agent weights [n, k, o] already split into each agent's [k, o] (saves a split per use). */
    readonly parts: readonly tf.Tensor2D[] | null = null,
  ) {}
}

export class TensorTape {
  private readonly steps: (() => void)[] = [];
  private readonly transposed = new Map<Node, tf.Tensor2D[]>();
  /** The inputs and output gradients of every matMul with a tracked weight, for weightGradients(). */
  private readonly weightUses = new Map<Node, { inputs: tf.Tensor[]; gradients: tf.Tensor[] }>();

  /** A tape that records nothing (acting: forward passes only). */
  constructor(private readonly recording = true) {}

  /** A parameter: gradients flow into it. */
  parameter(value: tf.Tensor, parts: readonly tf.Tensor2D[] | null = null): Node {
    return new Node(value, this.recording, parts);
  }

  constant(value: tf.Tensor): Node {
    return new Node(value, false);
  }

  /**
   * x [n, B, k] times per-agent weights w [n, k, o]; or shared weights w [k, o].
   *
   * Why one 2-D matMul per agent, not one batched matMul: the wasm backend sends only 2-D,
   * untransposed matMuls to XNNPACK and runs batched (3-D) ones in a scalar loop, 6x slower
   * at 4 rows and 30x at 100, and no faster at one row (docs/ic3net.md, "Speed"). The
   * backward transposes are explicit for the same reason, and the weight gradient waits for
   * backward() to end: there it is one product over every recorded use of the weight (all
   * steps of a BPTT chunk) instead of one per step.
   */
  matMul(x: Node, w: Node): Node {
    if (w.value.rank === 2) return this.sharedMatMul(x, w);
    const out = perAgentMatMul(tf.unstack(x.value) as tf.Tensor2D[], w.parts ?? (tf.unstack(w.value) as tf.Tensor2D[]));
    return this.record(out, [x, w], (g) => {
      if (x.tracked) accumulate(x, perAgentMatMul(tf.unstack(g) as tf.Tensor2D[], this.transposedParts(w)));
      if (w.tracked) this.deferWeightGradient(w, x.value, g);
    });
  }

  /** x [n, B, k] times weights w [k, o] shared by every agent: one 2-D matMul over all rows. */
  private sharedMatMul(x: Node, w: Node): Node {
    const [n, rows, k] = x.value.shape;
    const out = tf.reshape(tf.matMul(tf.reshape(x.value, [n * rows, k]) as tf.Tensor2D, w.value as tf.Tensor2D), [n, rows, w.value.shape[1]!]);
    return this.record(out, [x, w], (g) => {
      if (x.tracked) accumulate(x, tf.reshape(tf.matMul(tf.reshape(g, [n * rows, -1]) as tf.Tensor2D, tf.transpose(w.value as tf.Tensor2D)), [n, rows, k]));
      if (w.tracked) this.deferWeightGradient(w, x.value, g);
    });
  }

  /** Each agent's w_i^T [o, k], made once per tape (the weights do not change while it records). */
  private transposedParts(w: Node): tf.Tensor2D[] {
    let parts = this.transposed.get(w);
    if (parts === undefined) {
      parts = tf.unstack(tf.transpose(w.value, [0, 2, 1])) as tf.Tensor2D[];
      this.transposed.set(w, parts);
    }
    return parts;
  }

  private deferWeightGradient(w: Node, input: tf.Tensor, gradient: tf.Tensor): void {
    const uses = this.weightUses.get(w);
    if (uses === undefined) this.weightUses.set(w, { inputs: [input], gradients: [gradient] });
    else {
      uses.inputs.push(input);
      uses.gradients.push(gradient);
    }
  }

  /** dL/dw = sum over uses of x^T g, as one product per agent (or one for shared w) over all the uses' rows. */
  private weightGradients(): void {
    for (const [w, uses] of this.weightUses) {
      const inputs = tf.concat(uses.inputs, 1);
      const gradients = tf.concat(uses.gradients, 1);
      if (w.value.rank === 2) {
        const [n, rows, k] = inputs.shape;
        accumulate(w, tf.matMul(tf.transpose(tf.reshape(inputs, [n * rows, k])) as tf.Tensor2D, tf.reshape(gradients, [n * rows, -1]) as tf.Tensor2D));
      } else {
        accumulate(w, perAgentMatMul(tf.unstack(tf.transpose(inputs, [0, 2, 1])) as tf.Tensor2D[], tf.unstack(gradients) as tf.Tensor2D[]));
      }
    }
    this.weightUses.clear();
  }

  /** x plus a bias broadcast over samples: b [n, 1, o] per agent or [o] shared. */
  addBias(x: Node, b: Node): Node {
    return this.record(tf.add(x.value, b.value), [x, b], (g) => {
      if (x.tracked) accumulate(x, g);
      if (b.tracked) accumulate(b, b.value.rank === 1 ? tf.sum(g, [0, 1]) : tf.sum(g, 1, true));
    });
  }

  add(a: Node, b: Node): Node {
    return this.record(tf.add(a.value, b.value), [a, b], (g) => {
      if (a.tracked) accumulate(a, g);
      if (b.tracked) accumulate(b, g);
    });
  }

  /** Elementwise a * b of equal shapes. */
  mul(a: Node, b: Node): Node {
    return this.record(tf.mul(a.value, b.value), [a, b], (g) => {
      if (a.tracked) accumulate(a, tf.mul(g, b.value));
      if (b.tracked) accumulate(b, tf.mul(g, a.value));
    });
  }

  /** x times a constant that broadcasts to x's shape (masks, per-sample scales). */
  scale(x: Node, factor: tf.Tensor): Node {
    return this.record(tf.mul(x.value, factor), [x], (g) => accumulate(x, tf.mul(g, factor)));
  }

  relu(x: Node): Node {
    const out = tf.relu(x.value);
    return this.record(out, [x], (g) => accumulate(x, tf.mul(g, tf.step(out))));
  }

  tanh(x: Node): Node {
    const out = tf.tanh(x.value);
    return this.record(out, [x], (g) => accumulate(x, tf.mul(g, tf.sub(1, tf.square(out)))));
  }

  sigmoid(x: Node): Node {
    const out = tf.sigmoid(x.value);
    return this.record(out, [x], (g) => accumulate(x, tf.mul(g, tf.mul(out, tf.sub(1, out)))));
  }

  /**
   * Mixes agents: out_i = sum_j mixing[i, j] x_j for x [n, B, w] and a constant [n, n]
   * (adjacency means); `transposed` is mixing^T, for the backward pass.
   */
  mixAgents(x: Node, mixing: tf.Tensor2D, transposed: tf.Tensor2D): Node {
    const shape = x.value.shape;
    const mix = (m: tf.Tensor2D, t: tf.Tensor) => tf.reshape(tf.matMul(m, tf.reshape(t, [shape[0], -1])), shape);
    return this.record(mix(mixing, x.value), [x], (g) => accumulate(x, mix(transposed, g)));
  }

  /** Columns [start, start + size) of the last axis of x [n, B, w]. */
  sliceLast(x: Node, start: number, size: number): Node {
    const [n, rows, width] = x.value.shape;
    return this.record(tf.slice(x.value, [0, 0, start], [n, rows, size]), [x], (g) =>
      accumulate(x, tf.pad(g, [[0, 0], [0, 0], [start, width - start - size]])),
    );
  }

  /** a [n, B, p] and b [n, B, q] side by side: [n, B, p + q]. */
  concatLast(a: Node, b: Node): Node {
    const width = a.value.shape[2]!;
    return this.record(tf.concat([a.value, b.value], 2), [a, b], (g) => {
      const [ga, gb] = tf.split(g, [width, b.value.shape[2]!], 2);
      if (a.tracked) accumulate(a, ga);
      if (b.tracked) accumulate(b, gb);
    });
  }

  /** Nodes [n, B_k, w] joined along the sample axis. */
  concatSamples(parts: readonly Node[]): Node {
    const sizes = parts.map((p) => p.value.shape[1]!);
    return this.record(tf.concat(parts.map((p) => p.value), 1), parts, (g) => {
      tf.split(g, sizes, 1).forEach((piece, k) => {
        if (parts[k].tracked) accumulate(parts[k], piece);
      });
    });
  }

  /** Seeds dLoss/dNode of the given outputs and runs every recorded step backwards. */
  backward(seeds: readonly (readonly [Node, tf.Tensor])[]): void {
    for (const [node, gradient] of seeds) if (node.tracked) accumulate(node, gradient);
    for (let s = this.steps.length - 1; s >= 0; s--) this.steps[s]();
    this.steps.length = 0;
    this.weightGradients();
    this.transposed.clear();
  }

  private record(value: tf.Tensor, inputs: readonly Node[], back: (gradient: tf.Tensor) => void): Node {
    const tracked = this.recording && inputs.some((input) => input.tracked);
    const out = new Node(value, tracked);
    if (tracked) {
      this.steps.push(() => {
        if (out.grad !== null) back(out.grad);
      });
    }
    return out;
  }
}

/** One 2-D matMul per agent, the products stacked: [n, B, o] from x_i [B, k] and w_i [k, o]. */
function perAgentMatMul(inputs: readonly tf.Tensor2D[], weights: readonly tf.Tensor2D[]): tf.Tensor {
  return tf.stack(inputs.map((input, i) => tf.matMul(input, weights[i])));
}

function accumulate(node: Node, gradient: tf.Tensor): void {
  node.grad = node.grad === null ? gradient : tf.add(node.grad, gradient);
}
