/** A counter's value in a node's /metrics, summed over the series that carry `labels`. */
export async function metricOf(nodeUrl: string, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`${nodeUrl}/metrics`)).text();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) && line.includes(labels))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(' ') + 1)), 0);
}
