/** Prometheus text exposition (format 0.0.4) from plain numbers: no client library needed for a handful of series. */
export interface Sample {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  values: { labels?: Record<string, string>; value: number }[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

export function renderPrometheus(samples: Sample[]): string {
  const lines: string[] = [];
  for (const s of samples) {
    lines.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`);
    for (const { labels, value } of s.values) {
      const rendered = labels
        ? `{${Object.entries(labels)
            .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
            .join(',')}}`
        : '';
      lines.push(`${s.name}${rendered} ${Number.isFinite(value) ? value : 0}`);
    }
  }
  return `${lines.join('\n')}\n`;
}
