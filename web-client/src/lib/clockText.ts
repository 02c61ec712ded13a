// Elapsed time as a clock reads: 01:02:03 (uptime), 62:03 (a recording's length).

/** hh:mm:ss with `hours`, else mm:ss (minutes then grow past 59: two hours is 120:00). */
export function clockText(seconds: number, { hours }: { hours: boolean }): string {
  const whole = Math.max(0, Math.floor(seconds));
  const parts = hours ? [Math.floor(whole / 3600), Math.floor(whole / 60) % 60] : [Math.floor(whole / 60)];
  return [...parts, whole % 60].map((part) => String(part).padStart(2, '0')).join(':');
}
