export { DEFAULT_SIP_MEDIA_PORTS, MediaPorts, type MediaKind, type MediaPortsCounters, type MediaPortsEvents, type MediaPortsOptions } from './MediaPorts.js';
export { SipInbound, type SipInboundEvents, type SipInboundOptions } from './SipInbound.js';
export { SipOutbound, type SipOutboundOptions } from './SipOutbound.js';
export type { PipeProducer } from './ConsumerTap.js';
export { SrtpSender } from './SrtpSender.js';
export { VideoSwitchPool, type VideoSwitchPoolOptions } from './VideoSwitchPool.js';
export { PromptPlayer, promptFile, type PromptName, type PromptOutcome, type PromptPlayerOptions } from './PromptPlayer.js';
