export { MEDIA_CODECS } from './codecs.js';
export type { ListenIp, SfuConfig } from './config.js';
export { SfuError, type SfuErrorCode } from './errors.js';
export { Meeting, type MeetingCloseReason, type MeetingEvents, type MeetingOptions, type RouterPlacement } from './Meeting.js';
export {
  KEY_FRAME_REQUEST_INTERVAL_MS,
  Participant,
  type CloseReason,
  type MediaSource,
  type PlainConnectParameters,
  type PlainTransportOptions,
  type PlainTransportParameters,
  type Placement,
  type TransportType,
  type ProduceOptions,
  type ProducerAppData,
  type TransportDirection,
  type TransportParameters,
} from './Participant.js';
export { Sfu, type SfuEvents, type SfuStats } from './Sfu.js';
export type { WorkerStats } from './WorkerLoad.js';
export { WorkerPool } from './WorkerPool.js';
export type { types as mediasoupTypes } from 'mediasoup';
export { FFMPEG_STOP_GRACE_MS, FfmpegProcess, liveFfmpegCount, type FfmpegExit } from './bridge/FfmpegProcess.js';
export { RtpBridge, type RtpBridgeEvents, type RtpBridgeOptions } from './bridge/RtpBridge.js';
export { receiveSdp, type ReceiveStream } from './bridge/sdp.js';
export { DEFAULT_BRIDGE_PORTS, releasePortPair, reservePortPair, udpPortsBound } from './bridge/udpPorts.js';
export { IngestJob, type IngestJobEvents, type IngestJobOptions, type IngestVideoNow } from './bridge/IngestJob.js';
export {
  IngestSourceError,
  MAX_FEED_PIXELS,
  type IngestSource,
  type IngestVideoPlan,
  type PushedStream,
  type PushedVideo,
} from './bridge/IngestSource.js';
export { SupervisedJob, type SupervisedJobEvents } from './bridge/SupervisedJob.js';
export {
  WHIP_DISCONNECT_TIMEOUT_MS,
  WhipPublication,
  type WhipCloseReason,
  type WhipPublicationEvents,
  type WhipPublicationOptions,
} from './whip/WhipPublication.js';
export { MAX_OFFER_BYTES, WhipOfferError } from './whip/whipOffer.js';
export { RtmpServer, type RtmpServerEvents, type RtmpServerOptions } from './bridge/rtmp/RtmpServer.js';
export { FLV_BUFFER_LIMIT, RtmpPublisher, type RtmpCloseReason, type RtmpPublisherEvents } from './bridge/rtmp/RtmpPublisher.js';
export type { RtmpAuthorize } from './bridge/rtmp/RtmpConnection.js';
export type { VideoCodec, VideoInfo } from './bridge/rtmp/videoTag.js';
export type { AudioCodec, AudioInfo } from './bridge/rtmp/audioTag.js';
