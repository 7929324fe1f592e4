/**
 * Robbins-Monro step sizes for multi-timescale stochastic approximation (the DADC paper's
 * convergence argument): rate_k = initial / (1 + k / scale)^exponent. For exponent in (0.5, 1]
 * the sum of the rates diverges and the sum of their squares converges; a larger exponent
 * decays faster, so a slower timescale takes the larger exponent and the ratio of its rate to
 * a faster one's goes to 0.
 */
export function robbinsMonroRate(initial: number, iteration: number, scale: number, exponent: number): number {
  // scale 0: constant rates.
  if (scale === 0) return initial;
  return initial / Math.pow(1 + iteration / scale, exponent);
}
