// User-facing text. Chinese comes first; by default both languages are shown ("加入会议 / Join"),
// and the user can switch to Chinese or English only. The choice is kept in localStorage.

const zh = {
  appTitle: '视频会议',
  languageLabel: '语言',
  'home.title': '进入会议',
  'home.meetingId': '会议号',
  'home.token': '入会令牌',
  'home.open': '进入',
  'home.invalidMeetingId': '会议号只能包含字母、数字、下划线、点和连字符（最多 64 个字符）',
  'home.missingToken': '请填写入会令牌',
  'join.title': '加入会议',
  'join.meetingId': '会议号',
  'join.as': '参会身份',
  'join.unknownIdentity': '未知',
  'join.camera': '摄像头',
  'join.microphone': '麦克风',
  'join.button': '加入会议',
  'join.joining': '正在加入…',
  'join.retry': '重试',
  'join.noToken': '链接中缺少入会令牌，请向会议管理员索取入会链接',
  'meeting.participants': '参会人数',
  'meeting.you': '我',
  'meeting.admin': '管理员',
  'meeting.micMuted': '已静音',
  'meeting.cameraOff': '摄像头已关闭',
  'meeting.waiting': '等待其他参会方加入…',
  'meeting.enableSound': '点击开启声音',
  'meeting.mediaError': '无法使用摄像头或麦克风',
  'notice.disconnected': '连接已断开，正在重新连接…',
  'notice.mediaServerRestarted': '媒体服务器已重启，正在重新加入…',
  'controls.muteMic': '静音',
  'controls.unmuteMic': '取消静音',
  'controls.stopCamera': '关闭摄像头',
  'controls.startCamera': '开启摄像头',
  'controls.leave': '离开会议',
  'left.title': '已离开会议',
  'left.sessionReplaced': '您已在其他设备或页面加入此会议',
  'left.rejoin': '重新加入',
  'error.UNAUTHORIZED': '令牌无效，无法加入会议',
  'error.TOKEN_EXPIRED': '令牌已过期，请向会议管理员索取新的入会链接',
  'error.FORBIDDEN': '无权加入：{message}',
  'error.NOT_FOUND': '会议不存在或已结束',
  'error.UNSUPPORTED': '此浏览器不支持会议所需的音视频功能',
  'error.TIMEOUT': '服务器无响应，请稍后重试',
  'error.CONNECTION_FAILED': '无法连接到会议服务器',
  'error.DISCONNECTED': '与服务器的连接已断开',
  'error.INTERNAL': '服务器内部错误，请稍后重试',
  'error.other': '加入会议失败（{code}）：{message}',
} as const;

export type MessageKey = keyof typeof zh;

const en: Record<MessageKey, string> = {
  appTitle: 'Video Conference',
  languageLabel: 'Language',
  'home.title': 'Open a meeting',
  'home.meetingId': 'Meeting ID',
  'home.token': 'Access token',
  'home.open': 'Open',
  'home.invalidMeetingId': 'Meeting IDs use letters, digits, _ . - only (up to 64 characters)',
  'home.missingToken': 'Enter an access token',
  'join.title': 'Join meeting',
  'join.meetingId': 'Meeting ID',
  'join.as': 'Joining as',
  'join.unknownIdentity': 'unknown',
  'join.camera': 'Camera',
  'join.microphone': 'Microphone',
  'join.button': 'Join',
  'join.joining': 'Joining…',
  'join.retry': 'Retry',
  'join.noToken': 'The link has no access token: ask the meeting organiser for a meeting link',
  'meeting.participants': 'Participants',
  'meeting.you': 'You',
  'meeting.admin': 'Admin',
  'meeting.micMuted': 'Muted',
  'meeting.cameraOff': 'Camera off',
  'meeting.waiting': 'Waiting for others to join…',
  'meeting.enableSound': 'Click to enable sound',
  'meeting.mediaError': 'Cannot use the camera or microphone',
  'notice.disconnected': 'Disconnected, reconnecting…',
  'notice.mediaServerRestarted': 'The media server restarted, rejoining…',
  'controls.muteMic': 'Mute',
  'controls.unmuteMic': 'Unmute',
  'controls.stopCamera': 'Stop camera',
  'controls.startCamera': 'Start camera',
  'controls.leave': 'Leave',
  'left.title': 'You left',
  'left.sessionReplaced': 'You joined this meeting from another device or page',
  'left.rejoin': 'Rejoin',
  'error.UNAUTHORIZED': 'Invalid token: cannot join the meeting',
  'error.TOKEN_EXPIRED': 'Token expired: ask the meeting organiser for a new link',
  'error.FORBIDDEN': 'Not allowed to join: {message}',
  'error.NOT_FOUND': 'The meeting does not exist or has ended',
  'error.UNSUPPORTED': 'This browser lacks the audio/video features the meeting needs',
  'error.TIMEOUT': 'The server did not answer: try again later',
  'error.CONNECTION_FAILED': 'Cannot reach the meeting server',
  'error.DISCONNECTED': 'The connection to the server was lost',
  'error.INTERNAL': 'Server error: try again later',
  'error.other': 'Could not join the meeting ({code}): {message}',
};

export type LanguageMode = 'zh-en' | 'zh' | 'en';
export const LANGUAGE_MODES: readonly LanguageMode[] = ['zh-en', 'zh', 'en'];

const STORAGE_KEY = 'cityconf.language';

function storedMode(): LanguageMode {
  try {
    const value = localStorage.getItem(STORAGE_KEY);
    return LANGUAGE_MODES.find((mode) => mode === value) ?? 'zh-en';
  } catch {
    return 'zh-en';
  }
}

const locale = $state({ mode: storedMode() });
applyDocumentLanguage(locale.mode);

function applyDocumentLanguage(mode: LanguageMode): void {
  document.documentElement.lang = mode === 'en' ? 'en' : 'zh-CN';
}

export function languageMode(): LanguageMode {
  return locale.mode;
}

export function setLanguageMode(mode: LanguageMode): void {
  locale.mode = mode;
  applyDocumentLanguage(mode);
  try {
    localStorage.setItem(STORAGE_KEY, mode);
  } catch {
    // Storage can be unavailable (private mode); the choice then lasts for this page only.
  }
}

type Params = Record<string, string>;

function fill(template: string, params: Params): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => params[name] ?? whole);
}

/** The text for `key` in the current language mode. */
export function t(key: MessageKey, params: Params = {}): string {
  const chinese = fill(zh[key], params);
  const english = fill(en[key], params);
  if (locale.mode === 'zh') return chinese;
  if (locale.mode === 'en') return english;
  return `${chinese} / ${english}`;
}

const ERROR_KEYS: Partial<Record<string, MessageKey>> = {
  UNAUTHORIZED: 'error.UNAUTHORIZED',
  TOKEN_EXPIRED: 'error.TOKEN_EXPIRED',
  FORBIDDEN: 'error.FORBIDDEN',
  NOT_FOUND: 'error.NOT_FOUND',
  UNSUPPORTED: 'error.UNSUPPORTED',
  TIMEOUT: 'error.TIMEOUT',
  CONNECTION_FAILED: 'error.CONNECTION_FAILED',
  DISCONNECTED: 'error.DISCONNECTED',
  INTERNAL: 'error.INTERNAL',
};

/** The text for an error code (a server ErrorCode or a client-side one). */
export function errorText(code: string, message: string): string {
  return t(ERROR_KEYS[code] ?? 'error.other', { code, message });
}
