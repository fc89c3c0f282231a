/** True when the server name or Host `pattern` (exact or `*.suffix`) answers for `host` (exact or wildcard). */
export function hostPatternCovers(pattern: string, host: string): boolean {
  if (!pattern.startsWith('*.')) return pattern === host;
  const suffix = pattern.slice(1); // ".example.com"
  const h = host.startsWith('*.') ? host.slice(1) : host;
  // Envoy's wildcards match any number of labels, so "*.example.com" also answers for "a.b.example.com".
  return h.endsWith(suffix) && h.length > suffix.length;
}

export function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
