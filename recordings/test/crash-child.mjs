// A server that records one meeting until it is killed: run by crash.test.ts with the built
// packages. argv: the SFU config (JSON) and the recordings root. Prints one JSON line once every
// track is being written: the recording's directory, the feeding ffmpeg's pid, and the track ffmpegs' pids.
import { MeetingRecording } from '@cityconf/recordings';
import { Sfu } from '@cityconf/sfu';
import { pino } from 'pino';
import { syntheticFeeds } from './feeds.mjs';

const [configJson, root] = process.argv.slice(2);
const config = JSON.parse(configJson);
const logger = pino({ level: process.env.RECORDING_LOG ?? 'silent' }, pino.destination(2));
const sfu = await Sfu.create(config, logger);
const router = (await sfu.openMeeting('crashed')).router;
const feeds = await syntheticFeeds(router, config.listenIps[0], ['vp8', 'opus'], logger);
const recording = await MeetingRecording.start({ root, meetingId: 'crashed', router, listenIp: config.listenIps[0], logger });
const unit = { participantId: 'a', name: '东城区', source: 'camera' };
const [camera, mic] = feeds.producers;
await recording.addTrack(camera, unit);
await recording.addTrack(mic, { ...unit, source: 'microphone' });
recording.setSpeaker('a');
process.stdout.write(`${JSON.stringify({ dir: recording.dir, feedsPid: feeds.pid })}\n`);
