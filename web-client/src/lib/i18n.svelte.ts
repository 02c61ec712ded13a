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
  'layout.label': '布局',
  'layout.gallery': '宫格',
  'layout.speaker': '演讲者',
  'layout.gridSize': '每页',
  'layout.previousPage': '上一页',
  'layout.nextPage': '下一页',
  'layout.page': '第 {page}/{pages} 页',
  'screen.share': '共享屏幕',
  'screen.stop': '停止共享',
  'screen.sharing': '你正在共享屏幕',
  'chat.title': '会议聊天',
  'chat.open': '聊天',
  'chat.close': '关闭聊天',
  'chat.placeholder': '输入消息，按回车发送',
  'chat.send': '发送',
  'chat.empty': '暂无消息',
  'chat.sendFailed': '消息发送失败，请重试',
  'chat.tooLong': '消息过长（最多 {max} 个字）',
  'chat.unread': '{count} 条未读',
  'hand.raise': '举手',
  'hand.lower': '放下手',
  'hand.raised': '已举手',
  'roster.title': '参会单位',
  'roster.open': '参会单位',
  'roster.close': '关闭参会单位',
  'roster.online': '在线 {online}',
  'roster.search': '搜索单位或名称（可用拼音首字母）',
  'roster.other': '其他',
  'roster.handsOnly': '只看举手',
  'roster.noMatch': '没有找到匹配的单位',
  'roster.noHands': '暂无举手',
  'roster.speaking': '正在发言',
  'roster.micOn': '麦克风已开启',
  'roster.cameraOn': '摄像头已开启',
  'screen.of': '{name} 的共享屏幕',
  'notice.disconnected': '连接已断开，正在重新连接…',
  'notice.mediaServerRestarted': '媒体服务器已重启，正在重新加入…',
  'controls.muteMic': '静音',
  'controls.unmuteMic': '取消静音',
  'controls.stopCamera': '关闭摄像头',
  'controls.startCamera': '开启摄像头',
  'controls.leave': '离开会议',
  'lobby.preview': '摄像头预览',
  'lobby.micLevel': '麦克风音量',
  'lobby.opening': '正在打开摄像头和麦克风…',
  'lobby.listenOnly': '将以只听模式加入（不开摄像头和麦克风）',
  'devices.speaker': '扬声器',
  'devices.systemDefault': '系统默认',
  'devices.unnamed': '设备 {n}',
  'devices.none': '未找到设备',
  'devices.testSpeaker': '测试扬声器',
  'devices.testing': '正在播放测试音…',
  'devices.toneFailed': '无法播放测试音，请检查扬声器或选择其他扬声器',
  'devices.denied': '浏览器未允许使用摄像头和麦克风。请点击地址栏左侧的锁形图标，选择“允许”后点击“重试”；也可以只听不说，直接加入会议',
  'devices.notFound.camera': '未检测到摄像头，请检查连接后点击“重试”；也可以不开摄像头加入会议',
  'devices.notFound.microphone': '未检测到麦克风，请检查连接后点击“重试”；也可以不开麦克风加入会议',
  'devices.inUse.camera': '摄像头正被其他程序占用，请关闭其他视频软件后点击“重试”',
  'devices.inUse.microphone': '麦克风正被其他程序占用，请关闭其他软件后点击“重试”',
  'devices.timeout': '打开设备超时，请点击“重试”；也可以只听不说，直接加入会议',
  'devices.insecure': '此页面不是安全连接（https），浏览器不允许使用摄像头和麦克风；可以只听不说，直接加入会议',
  'devices.other': '无法打开摄像头或麦克风（{message}），请点击“重试”',
  'devices.retry': '重试',
  'devices.lost.camera': '摄像头已断开，摄像头已关闭。重新连接后可在“设备设置”中选择',
  'devices.lost.microphone': '麦克风已断开，麦克风已关闭。重新连接后可在“设备设置”中选择',
  'devices.switchFailed': '切换设备失败，请重试或选择其他设备（{message}）',
  'controls.settings': '设备设置',
  'controls.closeSettings': '关闭',
  'left.title': '已离开会议',
  'left.sessionReplaced': '您已在其他设备或页面加入此会议',
  'left.rejoin': '重新加入',
  'left.next': '您已离开会议，摄像头和麦克风均已关闭。可以直接关闭此页面；如需回到会议，请点击“重新加入”。',
  'left.sessionReplacedNext': '同一身份只能在一处参会，本页面已自动退出。如需改在本页面参会，请点击“在此重新加入”（另一处将退出）。',
  'left.rejoinHere': '在此重新加入',
  'leave.confirmTitle': '确认离开会议？',
  'leave.confirmText': '离开后您将听不到、看不到会议内容。',
  'leave.stay': '留在会议中',
  'quality.good': '网络良好',
  'quality.fair': '网络一般',
  'quality.poor': '网络较差',
  'quality.unknown': '网络检测中',
  'kiosk.fullscreen': '全屏',
  'wall.connecting': '正在连接会议大屏…',
  'wall.waitingFor': '等待指定的参会方入会…',
  'quality.details': '往返时延 {rtt} 毫秒 · 丢包率 {loss}% · 接收 {down} kbps · 发送 {up} kbps',
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
  'layout.label': 'Layout',
  'layout.gallery': 'Gallery',
  'layout.speaker': 'Speaker',
  'layout.gridSize': 'Per page',
  'layout.previousPage': 'Previous page',
  'layout.nextPage': 'Next page',
  'layout.page': 'Page {page} of {pages}',
  'screen.share': 'Share screen',
  'screen.stop': 'Stop sharing',
  'screen.sharing': 'You are sharing your screen',
  'chat.title': 'Meeting chat',
  'chat.open': 'Chat',
  'chat.close': 'Close chat',
  'chat.placeholder': 'Type a message, Enter to send',
  'chat.send': 'Send',
  'chat.empty': 'No messages yet',
  'chat.sendFailed': 'The message was not sent; try again',
  'chat.tooLong': 'Message too long (at most {max} characters)',
  'chat.unread': '{count} unread',
  'hand.raise': 'Raise hand',
  'hand.lower': 'Lower hand',
  'hand.raised': 'Hand raised',
  'roster.title': 'Participants',
  'roster.open': 'Participants',
  'roster.close': 'Close participants',
  'roster.online': '{online} online',
  'roster.search': 'Search unit or name (pinyin initials work)',
  'roster.other': 'Other',
  'roster.handsOnly': 'Hands raised',
  'roster.noMatch': 'No matching unit',
  'roster.noHands': 'No hands raised',
  'roster.speaking': 'Speaking',
  'roster.micOn': 'Microphone on',
  'roster.cameraOn': 'Camera on',
  'screen.of': 'Screen of {name}',
  'notice.disconnected': 'Disconnected, reconnecting…',
  'notice.mediaServerRestarted': 'The media server restarted, rejoining…',
  'controls.muteMic': 'Mute',
  'controls.unmuteMic': 'Unmute',
  'controls.stopCamera': 'Stop camera',
  'controls.startCamera': 'Start camera',
  'controls.leave': 'Leave',
  'lobby.preview': 'Camera preview',
  'lobby.micLevel': 'Microphone level',
  'lobby.opening': 'Opening camera and microphone…',
  'lobby.listenOnly': 'You will join listen-only (no camera, no microphone)',
  'devices.speaker': 'Speaker',
  'devices.systemDefault': 'System default',
  'devices.unnamed': 'Device {n}',
  'devices.none': 'No device found',
  'devices.testSpeaker': 'Test speaker',
  'devices.testing': 'Playing a test tone…',
  'devices.toneFailed': 'Cannot play the test tone: check the speaker or choose another one',
  'devices.denied': 'The browser blocked the camera and microphone. Click the lock icon left of the address bar, choose Allow, then Retry; or join to listen only',
  'devices.notFound.camera': 'No camera found: check the cable, then Retry; or join without camera',
  'devices.notFound.microphone': 'No microphone found: check the cable, then Retry; or join without microphone',
  'devices.inUse.camera': 'Another program is using the camera: close other video programs, then Retry',
  'devices.inUse.microphone': 'Another program is using the microphone: close it, then Retry',
  'devices.timeout': 'Opening the devices timed out: Retry, or join to listen only',
  'devices.insecure': 'This page is not secure (https), so the browser blocks camera and microphone; you can join to listen only',
  'devices.other': 'Cannot open the camera or microphone ({message}): Retry',
  'devices.retry': 'Retry',
  'devices.lost.camera': 'The camera was disconnected and is off. Choose one in Device settings once it is back',
  'devices.lost.microphone': 'The microphone was disconnected and is off. Choose one in Device settings once it is back',
  'devices.switchFailed': 'Could not switch the device: retry or choose another one ({message})',
  'controls.settings': 'Device settings',
  'controls.closeSettings': 'Close',
  'left.title': 'You left',
  'left.sessionReplaced': 'You joined this meeting from another device or page',
  'left.rejoin': 'Rejoin',
  'left.next': 'You left the meeting; your camera and microphone are off. You can close this page, or click Rejoin to go back.',
  'left.sessionReplacedNext': 'One identity can attend from one place only, so this page left. To attend here instead, click Rejoin here (the other place will leave).',
  'left.rejoinHere': 'Rejoin here',
  'leave.confirmTitle': 'Leave the meeting?',
  'leave.confirmText': 'After leaving you will no longer hear or see the meeting.',
  'leave.stay': 'Stay',
  'quality.good': 'Network good',
  'quality.fair': 'Network fair',
  'quality.poor': 'Network poor',
  'quality.unknown': 'Checking network',
  'kiosk.fullscreen': 'Full screen',
  'wall.connecting': 'Connecting the wall…',
  'wall.waitingFor': 'Waiting for the chosen participants to join…',
  'quality.details': 'Round trip {rtt} ms · loss {loss}% · receiving {down} kbps · sending {up} kbps',
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
