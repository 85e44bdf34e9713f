// Exponential moving average as TensorBoard draws it: debiased, so the first points are not pulled toward zero.

/**
 * The smoothed series for a weight in [0, 1): 0 returns the values, 0.99 follows the trend over about 100 points.
 * Missing points (null, NaN) stay missing and do not move the average.
 */
export function emaSmooth(values: readonly (number | null)[], weight: number): (number | null)[] {
  const w = Math.min(Math.max(weight, 0), 0.999);
  let average = 0;
  let count = 0;
  return values.map((v) => {
    if (v === null || !Number.isFinite(v)) return v;
    average = average * w + (1 - w) * v;
    count++;
    return average / (1 - w ** count);
  });
}
