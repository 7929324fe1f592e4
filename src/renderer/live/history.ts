/**
 * Recent per-vehicle speed and gap of the live episode, for the inspector's charts: a ring
 * buffer of the frames received (Float32, one row per frame) that the live store keeps
 * outside Vue's reactivity.
 */
export class VehicleHistory {
  private times: Float64Array;
  private speed: Float32Array;
  private gap: Float32Array;
  private head = 0;
  private count = 0;
  private nVehicles = 0;

  constructor(private readonly capacity = 600) {
    this.times = new Float64Array(capacity);
    this.speed = new Float32Array(0);
    this.gap = new Float32Array(0);
  }

  reset(nVehicles: number): void {
    this.nVehicles = nVehicles;
    this.head = 0;
    this.count = 0;
    if (this.speed.length !== this.capacity * nVehicles) {
      this.speed = new Float32Array(this.capacity * nVehicles);
      this.gap = new Float32Array(this.capacity * nVehicles);
    }
  }

  get size(): number {
    return this.count;
  }

  /** Appends a frame's state; a frame at or before the newest time replaces history from there (a new episode, a replayed step). */
  push(time: number, speed: ArrayLike<number>, gap: ArrayLike<number>): void {
    while (this.count > 0 && this.times[(this.head - 1 + this.capacity) % this.capacity] >= time) {
      this.head = (this.head - 1 + this.capacity) % this.capacity;
      this.count--;
    }
    const row = this.head;
    this.times[row] = time;
    const base = row * this.nVehicles;
    for (let v = 0; v < this.nVehicles; v++) {
      this.speed[base + v] = speed[v];
      this.gap[base + v] = gap[v];
    }
    this.head = (this.head + 1) % this.capacity;
    this.count = Math.min(this.count + 1, this.capacity);
  }

  /** The samples of one vehicle over the last `windowS` seconds, oldest first. */
  series(vehicle: number, field: 'speed' | 'gap', windowS: number): { t: number[]; y: number[] } {
    const t: number[] = [];
    const y: number[] = [];
    if (this.count === 0 || vehicle < 0 || vehicle >= this.nVehicles) return { t, y };
    const data = field === 'speed' ? this.speed : this.gap;
    const newest = this.times[(this.head - 1 + this.capacity) % this.capacity];
    for (let k = this.count; k >= 1; k--) {
      const row = (this.head - k + this.capacity) % this.capacity;
      if (this.times[row] < newest - windowS) continue;
      t.push(this.times[row]);
      y.push(data[row * this.nVehicles + vehicle]);
    }
    return { t, y };
  }
}
