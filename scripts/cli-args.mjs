// The command-line flags of the reliability scripts: `--name` switches and `--name <number>` options.
const args = process.argv.slice(2);

/** Whether `--name` was given. */
export const flag = (name) => args.includes(name);

/** The number after `--name`, or `fallback`; at least `min` (a typo must not silently run something else). */
export function option(name, fallback, { min = 0 } = {}) {
  const i = args.indexOf(name);
  if (i < 0) return fallback;
  const value = Number(args[i + 1]);
  if (!Number.isFinite(value) || value < min) throw new Error(`${name} needs a number of at least ${min}`);
  return value;
}
