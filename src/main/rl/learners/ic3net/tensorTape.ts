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
  ) {}
}

export class TensorTape {
  private readonly steps: (() => void)[] = [];

  /** A tape that records nothing (acting: forward passes only). */
  constructor(private readonly recording = true) {}

  /** A parameter: gradients flow into it. */
  parameter(value: tf.Tensor): Node {
    return new Node(value, this.recording);
  }

  constant(value: tf.Tensor): Node {
    return new Node(value, false);
  }

  /** x [n, B, k] times per-agent weights w [n, k, o]; or shared weights w [k, o]. */
  matMul(x: Node, w: Node): Node {
    const shared = w.value.rank === 2;
    const [n, rows, k] = x.value.shape;
    const flat = (t: tf.Tensor) => (shared ? tf.reshape(t, [n * rows, -1]) : t);
    const product = tf.matMul(flat(x.value) as tf.Tensor3D, w.value as tf.Tensor3D);
    const out = tf.reshape(product, [n, rows, w.value.shape[shared ? 1 : 2]!]);
    return this.record(out, [x, w], (g) => {
      const last = shared ? [1, 0] : [0, 2, 1];
      if (x.tracked) accumulate(x, tf.reshape(tf.matMul(flat(g) as tf.Tensor3D, tf.transpose(w.value, last) as tf.Tensor3D), [n, rows, k]));
      if (w.tracked) accumulate(w, tf.matMul(tf.transpose(flat(x.value), last) as tf.Tensor3D, flat(g) as tf.Tensor3D));
    });
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

function accumulate(node: Node, gradient: tf.Tensor): void {
  node.grad = node.grad === null ? gradient : tf.add(node.grad, gradient);
}
