/**
 * Colours of the 3D view. Speed uses sumo-gui's familiar ramp (red = stopped, through
 * orange, yellow and green, to blue = fast), so a stop-and-go wave reads at a glance.
 */
export const SPEED_RAMP: readonly (readonly [number, string])[] = [
  [0, '#e5484d'],
  [0.2, '#f76b15'],
  [0.4, '#ffc53d'],
  [0.65, '#46a758'],
  [1, '#3e8cf0'],
];

export const COLORS = {
  background: '#0e1217',
  ground: '#11161c',
  gridMajor: '#1d252e',
  gridMinor: '#161d24',
  asphalt: '#2b323b',
  marking: '#d8dee6',
  conflictZone: '#ffb224',
  agentRoof: '#5eead4',
  leader: '#fbbf24',
  selected: '#ffffff',
  policy: '#ff4fd8',
  critic: '#a78bfa',
  collision: '#ff2d2d',
  /** Chartreuse: in no speed colour and no other mark, so a disturbed vehicle reads at any speed. */
  disturbed: '#d4ff3a',
} as const;

function hexToRgb(hex: string): [number, number, number] {
  const value = parseInt(hex.slice(1), 16);
  return [((value >> 16) & 255) / 255, ((value >> 8) & 255) / 255, (value & 255) / 255];
}

const RAMP_RGB = SPEED_RAMP.map(([at, hex]) => [at, ...hexToRgb(hex)] as const);

/** Writes the sRGB colour of `speed` on a scale 0..max into out[offset..offset+3]. */
export function speedColor(speed: number, max: number, out: Float32Array | number[], offset = 0): void {
  const x = Math.min(1, Math.max(0, Number.isFinite(speed) ? speed / max : 0));
  let k = 1;
  while (k < RAMP_RGB.length - 1 && RAMP_RGB[k][0] < x) k++;
  const [a0, r0, g0, b0] = RAMP_RGB[k - 1];
  const [a1, r1, g1, b1] = RAMP_RGB[k];
  const f = a1 > a0 ? (x - a0) / (a1 - a0) : 0;
  out[offset] = r0 + (r1 - r0) * f;
  out[offset + 1] = g0 + (g1 - g0) * f;
  out[offset + 2] = b0 + (b1 - b0) * f;
}

/** CSS gradient of the ramp, for the legend. */
export function speedGradientCss(): string {
  return `linear-gradient(90deg, ${SPEED_RAMP.map(([at, hex]) => `${hex} ${(at * 100).toFixed(0)}%`).join(', ')})`;
}
