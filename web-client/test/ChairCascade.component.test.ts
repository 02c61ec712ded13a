// 级联与终端 in the chair console: the upper-level platforms and room terminals to dial (a site
// with a leg on cannot be dialled twice), each leg with its direction, state, codecs, rates and
// loss, hanging up behind a confirmation, refusals inline, and a server without SIP.
import type { SipLegStatus } from '@cityconf/signaling/protocol';
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { describe, expect, it, vi } from 'vitest';
import ChairCascade, { type SipControl } from '../src/components/ChairCascade.svelte';
import { setLanguageMode } from '../src/lib/i18n.svelte';

function leg(id: string, changes: Partial<SipLegStatus> = {}): SipLegStatus {
  return {
    id,
    meetingId: 'city-weekly',
    direction: 'out',
    kind: 'mcu',
    name: '省视频会议平台',
    uri: 'sip:9000@10.1.1.1',
    targetId: 'province',
    unitId: null,
    participantId: null,
    state: 'connected',
    since: 0,
    connectedSince: 0,
    error: null,
    attempt: 0,
    nextAttemptAt: null,
    audio: { codec: 'G722', clockRate: 8000, srtp: false },
    video: { codec: 'H264', profileLevelId: '42e01f', srtp: false },
    rxKbps: 1980,
    txKbps: 2010,
    lossPct: 0.4,
    ...changes,
  };
}

const targets = [
  { id: 'province', name: '省视频会议平台', uri: 'sip:9000@10.1.1.1' },
  { id: 'nation', name: '国家平台', uri: 'sip:100@10.0.0.1' },
];
const terminals = [{ unitId: 'county-a', name: '甲县人民政府', sipUri: 'sip:room@10.2.0.7' }];

function renderWith(legs: SipLegStatus[], overrides: Partial<Record<keyof SipControl, unknown>> = {}) {
  const session = {
    listSipLegs: vi.fn(async () => ({ legs, targets, terminals })),
    dialSip: vi.fn(async () => leg('new', { state: 'calling' })),
    hangupSip: vi.fn(async () => undefined),
    ...overrides,
  };
  render(ChairCascade, { legs, session: session as unknown as SipControl });
  return session;
}

describe('the cascade section of the chair console', () => {
  setLanguageMode('zh');

  it('dials targets and terminals, but not a site that has a leg on', async () => {
    const session = renderWith([leg('mcu')]);
    const rows = await screen.findAllByTestId('chair-sip-target');
    expect(within(rows[0]!).getByRole('button', { name: '级联到 省视频会议平台' })).toHaveProperty('disabled', true);
    await fireEvent.click(within(rows[1]!).getByRole('button', { name: '级联到 国家平台' }));
    expect(session.dialSip).toHaveBeenCalledWith({ targetId: 'nation' });
    await fireEvent.click(screen.getByRole('button', { name: '呼叫 甲县人民政府' }));
    expect(session.dialSip).toHaveBeenCalledWith({ unitId: 'county-a' });
  });

  it('shows each leg: direction, state, codecs, rates, loss and why it failed', async () => {
    const redialAt = new Date(2026, 2, 1, 14, 3, 5).getTime();
    renderWith([
      leg('mcu'),
      leg('again', { state: 'redialing', attempt: 2, nextAttemptAt: redialAt, error: '486 Busy Here', audio: null, video: null }),
      leg('room', { direction: 'in', kind: 'terminal', name: '甲县人民政府', state: 'failed', error: '488 Not Acceptable Here', audio: null, video: null }),
    ]);
    const [connected, redialing, failed] = await screen.findAllByTestId('chair-sip-leg');
    expect(within(connected!).getByTestId('chair-sip-leg-state').textContent).toBe('已连接');
    expect(within(connected!).getByTestId('chair-sip-leg-figures').textContent).toMatch(/H\.264 42e01f · G\.722 · ↓1980 ↑2010 kbps\s*接收 1980 kbps，发送 2010 kbps\s*· 丢包 0\.4%/);
    expect(within(connected!).getByText('呼出')).toBeTruthy();
    expect(within(redialing!).getByTestId('chair-sip-leg-state').textContent).toBe('重拨中（2 次，下次 14:03:05）');
    expect(within(redialing!).getByTestId('chair-sip-leg-error').textContent).toBe('486 Busy Here');
    expect(within(failed!).getByText('呼入')).toBeTruthy();
    expect(within(failed!).getByTestId('chair-sip-leg-state').textContent).toBe('失败');
    expect(within(failed!).queryByTestId('chair-sip-hangup')).toBeNull();
  });

  it('hangs up only after confirming', async () => {
    const session = renderWith([leg('mcu')]);
    await fireEvent.click(await screen.findByRole('button', { name: '挂断 省视频会议平台' }));
    await fireEvent.click(screen.getByTestId('sip-hangup-confirm-cancel'));
    expect(session.hangupSip).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByRole('button', { name: '挂断 省视频会议平台' }));
    expect(screen.getByTestId('sip-hangup-confirm').textContent).toContain('确认挂断 省视频会议平台？');
    await fireEvent.click(screen.getByTestId('sip-hangup-confirm-button'));
    expect(session.hangupSip).toHaveBeenCalledWith('mcu');
  });

  it('shows a refusal inline', async () => {
    const refusal = Object.assign(new Error('that target already has a leg in this meeting'), { code: 'INVALID_STATE' });
    renderWith([], { dialSip: vi.fn(async () => Promise.reject(refusal)) });
    await fireEvent.click(await screen.findByRole('button', { name: '级联到 国家平台' }));
    expect((await screen.findByRole('alert')).textContent).toBe('当前无法执行：that target already has a leg in this meeting');
  });

  it('says so when the server runs without SIP', async () => {
    renderWith([], { listSipLegs: vi.fn(async () => Promise.reject(Object.assign(new Error('no SIP'), { code: 'UNSUPPORTED' }))) });
    await waitFor(() => expect(screen.getByTestId('chair-sip-unsupported').textContent).toBe('本服务器未启用 SIP，无法级联或呼叫终端'));
    expect(screen.queryByTestId('chair-sip-cascade')).toBeNull();
  });
});
