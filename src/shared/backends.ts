/**
 * The tensor backends a training run can ask for, declared once for the CLI (--backend), the
 * api (a Train job's `backend`) and the Train form. What each one is and the order 'auto'
 * tries them in: src/main/rl/nn/backend.ts and the README's "Tensor backends".
 */
export const BACKEND_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKEND_CHOICES)[number];

/** One line per choice, for the form's select and its hover text. */
export const BACKEND_LABELS: Record<BackendChoice, string> = {
  auto: 'auto: the fastest that passes its self-check',
  tensorflow: 'tensorflow: native TensorFlow (CUDA GPU or CPU)',
  webgpu: 'webgpu: the GPU through WebGPU (Vulkan, Metal, D3D12)',
  wasm: 'wasm: WebAssembly on the CPU',
  cpu: 'cpu: plain JavaScript (slow; the reference)',
};
