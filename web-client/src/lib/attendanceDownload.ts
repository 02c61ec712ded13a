// 导出签到表: the server's attendance CSV for a meeting, fetched with the chair's join token (the
// endpoint accepts it from chairs, co-chairs and operators) and saved as 签到-<会议号>.csv.

export function attendanceFileName(meetingNumber: number | string): string {
  return `签到-${meetingNumber}.csv`;
}

export async function downloadAttendance(meetingId: string, meetingNumber: number | string, token: string): Promise<void> {
  const response = await fetch(`/api/meetings/${encodeURIComponent(meetingId)}/attendance.csv`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!response.ok) throw new Error(`attendance export failed: HTTP ${response.status}`);
  const url = URL.createObjectURL(await response.blob());
  const link = document.createElement('a');
  link.href = url;
  link.download = attendanceFileName(meetingNumber);
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
