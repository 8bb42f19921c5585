/** Kubernetes resource quantities the agent turns into engine limits. */

const binarySuffixes: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const decimalSuffixes: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18, m: 1e-3 };

/** "64Mi" -> 67108864, "1G" -> 1e9, "129e6" -> 129000000. Throws on anything else. */
export function parseQuantity(quantity: string): number {
  const match = /^([+]?[0-9]*\.?[0-9]+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|([eE][+-]?[0-9]+)|(k|M|G|T|P|E|m))?$/.exec(quantity.trim());
  if (!match) throw new Error(`invalid quantity "${quantity}": use e.g. "500m", "1", "64Mi" or "1G"`);
  const value = Number(match[1]);
  if (match[2]) return value * (binarySuffixes[match[2]] ?? 1);
  if (match[3]) return value * 10 ** Number(match[3].slice(1));
  return value * (decimalSuffixes[match[4] ?? ''] ?? 1);
}

export function cpuMillicores(quantity: string): number {
  return Math.round(parseQuantity(quantity) * 1000);
}

export function memoryBytes(quantity: string): number {
  return Math.ceil(parseQuantity(quantity));
}
