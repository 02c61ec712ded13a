// The roster panel rendered into happy-dom: units grouped by their path with online and
// raised-hand counts, collapsing a unit, searching by Chinese text and by pinyin initials (the
// pinyin module loads on first use), and following the participants as they change.
import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ComponentProps } from 'svelte';
import RosterPanel from '../src/components/RosterPanel.svelte';
import type { RemoteParticipant } from '../src/lib/MeetingSession';

function participant(id: string, name: string, unit: string | undefined, handRaised = false): RemoteParticipant {
  return {
    id,
    identity: id,
    unitId: id,
    role: 'participant',
    name,
    isAdmin: false,
    handRaised,
    attributes: unit === undefined ? {} : { unit },
    media: [{ producerId: `${id}-mic`, kind: 'audio', source: 'microphone', paused: false, track: null }],
  };
}

const participants = [
  participant('office', '办公室', '甲县/乙镇'),
  participant('party', '党政办', '甲县/乙镇', true),
  participant('emergency', '应急管理局', '丙县'),
];

function renderRoster(props: Partial<ComponentProps<typeof RosterPanel>> = {}) {
  return render(RosterPanel, {
    participants,
    self: null,
    microphoneOn: true,
    cameraOn: true,
    activeSpeakerId: null,
    onClose: () => undefined,
    ...props,
  });
}

function groups(): Array<{ key: string; online: string; hands: string; text: string }> {
  return screen.queryAllByTestId('roster-group').map((element) => ({
    key: element.dataset.key ?? '',
    online: element.dataset.online ?? '',
    hands: element.dataset.hands ?? '',
    text: element.textContent ?? '',
  }));
}

function memberIds(): string[] {
  return screen.queryAllByTestId('roster-member').map((element) => element.dataset.participantId ?? '');
}

/** The sequential focus order, as Tab walks it (every stop here has tabindex 0 or none). */
function tabStops(): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>('button, input, [tabindex]')].filter((element) => element.tabIndex >= 0 && !(element as HTMLButtonElement).disabled);
}

/** The virtual list's row (the roving focus stop) that holds an element. */
function rowOf(element: HTMLElement): HTMLElement {
  return element.closest<HTMLElement>('[data-row-index]')!;
}

describe('RosterPanel', () => {
  // happy-dom lays nothing out: give the virtual list a viewport tall enough for every row.
  const clientHeight = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'clientHeight');
  beforeAll(() => {
    Object.defineProperty(HTMLElement.prototype, 'clientHeight', { configurable: true, get: () => 600 });
  });
  afterAll(() => {
    if (clientHeight) Object.defineProperty(HTMLElement.prototype, 'clientHeight', clientHeight);
  });

  it('groups participants by unit path with online and raised-hand counts', () => {
    renderRoster();
    expect(screen.getByTestId('roster-online').dataset.count).toBe('3');
    expect(screen.getByTestId('roster-online').textContent).toContain('在线 3');
    // Units in Chinese collation order (丙 bǐng before 甲 jiǎ), each town under its county.
    expect(groups()).toEqual([
      { key: '丙县', online: '1', hands: '0', text: expect.stringContaining('丙县') },
      { key: '甲县', online: '2', hands: '1', text: expect.stringContaining('甲县') },
      { key: '甲县/乙镇', online: '2', hands: '1', text: expect.stringContaining('乙镇') },
    ]);
    expect(groups()[0]!.text).toContain('在线 1');
    expect(memberIds().sort()).toEqual(['emergency', 'office', 'party']);
    const raised = screen.getAllByTestId('roster-member').find((element) => element.dataset.participantId === 'party')!;
    expect(raised.dataset.handRaised).toBe('true');
    expect(within(raised).getByRole('img', { name: /已举手/ })).toBeTruthy();
    // Mic and camera status for tests and screen readers, not only as icons.
    expect(raised.dataset.mic).toBe('on');
    expect(raised.dataset.camera).toBe('off');
    expect(within(raised).getByRole('img', { name: /^麦克风已开启/ })).toBeTruthy();
    expect(within(raised).getByRole('img', { name: /^摄像头已关闭/ })).toBeTruthy();
  });

  it('collapses and expands a unit', async () => {
    renderRoster();
    const county = (): HTMLElement => screen.getAllByTestId('roster-group').find((element) => element.dataset.key === '甲县')!;
    await fireEvent.click(county());
    expect(county().getAttribute('aria-expanded')).toBe('false');
    expect(groups().map((group) => group.key)).toEqual(['丙县', '甲县']);
    expect(memberIds()).toEqual(['emergency']);
    await fireEvent.click(county());
    expect(memberIds().sort()).toEqual(['emergency', 'office', 'party']);
  });

  it('toggles a group from the keyboard: Enter or Space on its row', async () => {
    renderRoster();
    const county = (): HTMLElement => screen.getAllByTestId('roster-group').find((element) => element.dataset.key === '甲县')!;
    rowOf(county()).focus();
    await fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    expect(county().getAttribute('aria-expanded')).toBe('false');
    expect(memberIds()).toEqual(['emergency']);
    expect(document.activeElement).toBe(rowOf(county()));
    await fireEvent.keyDown(document.activeElement!, { key: ' ' });
    expect(county().getAttribute('aria-expanded')).toBe('true');
    expect(memberIds().sort()).toEqual(['emergency', 'office', 'party']);
  });

  it('searches by Chinese name or unit, and by pinyin initials once pinyin has loaded', async () => {
    renderRoster();
    const search = screen.getByTestId('roster-search');
    await fireEvent.input(search, { target: { value: '应急' } });
    expect(memberIds()).toEqual(['emergency']);
    expect(groups().map((group) => group.key)).toEqual(['丙县']);

    await fireEvent.input(search, { target: { value: '乙镇' } });
    expect(memberIds().sort()).toEqual(['office', 'party']);

    await fireEvent.input(search, { target: { value: 'dzb' } });
    await waitFor(() => expect(memberIds()).toEqual(['party']), { timeout: 5_000 });

    await fireEvent.input(search, { target: { value: '不存在的单位' } });
    expect(screen.getByTestId('roster-empty').textContent).toContain('没有找到匹配的单位');

    await fireEvent.keyDown(search, { key: 'Escape' });
    expect((search as HTMLInputElement).value).toBe('');
    expect(memberIds()).toHaveLength(3);
  });

  it('shows only raised hands when asked, and closes on Esc with an empty search', async () => {
    const onClose = vi.fn();
    renderRoster({ onClose });
    await fireEvent.click(screen.getByTestId('roster-hands-only'));
    expect(memberIds()).toEqual(['party']);
    await fireEvent.keyDown(screen.getByTestId('roster-search'), { key: 'Escape' });
    expect(onClose).toHaveBeenCalledOnce();
  });

  it('follows participants joining, leaving and muting', async () => {
    const { rerender } = renderRoster();
    await rerender({ participants: [...participants.slice(1), participant('town', '丁镇', '丙县/丁镇')] });
    await waitFor(() => expect(memberIds().sort()).toEqual(['emergency', 'party', 'town']));
    expect(screen.getByTestId('roster-online').dataset.count).toBe('3');
    expect(groups().map(({ key, online }) => [key, online])).toEqual([['丙县', '2'], ['丙县/丁镇', '1'], ['甲县', '1'], ['甲县/乙镇', '1']]);

    const muted = { ...participants[1]!, media: [{ producerId: 'party-mic', kind: 'audio' as const, source: 'microphone' as const, paused: true, track: null }] };
    await rerender({ participants: [participants[0]!, muted] });
    const row = (): HTMLElement => screen.getAllByTestId('roster-member').find((element) => element.dataset.participantId === 'party')!;
    await waitFor(() => expect(row().dataset.mic).toBe('off'));
    expect(within(row()).getByRole('img', { name: /^麦克风已静音/ })).toBeTruthy();
  });

  describe('with the meeting’s unit directory', () => {
    const directory = {
      units: [
        { id: 'city', name: '示范市', level: 'city' as const, parentId: null },
        { id: 'county-a', name: '甲县', level: 'county' as const, parentId: 'city' },
        { id: 'town-1', name: '一镇', level: 'town' as const, parentId: 'county-a' },
        { id: 'town-2', name: '二镇', level: 'town' as const, parentId: 'county-a' },
      ],
      invitedUnitIds: ['county-a', 'town-1', 'town-2'],
    };
    const control = {
      version: 3,
      locked: false,
      floorMode: 'controlled' as const,
      allowSelfUnmute: true,
      floorUnitIds: ['county-a'],
      handQueue: [],
      broadcastUnitId: null,
      mainVenueUnitId: null,
      rollCall: { currentUnitId: 'town-1', called: 2, present: 1, absent: 0, total: 3 },
    };
    const row = (unitId: string): HTMLElement => screen.getAllByTestId('roster-member').find((element) => element.dataset.unitId === unitId)!;

    it('lists invited units offline, with counts and roll-call and floor badges', () => {
      renderRoster({
        participants: [participant('county-a', '甲县', undefined), participant('town-1', '一镇', undefined), participant('ops', '运维', undefined)],
        directory,
        control,
        rollCallResults: { 'county-a': 'present', 'town-1': 'called' },
      });
      expect(screen.getByTestId('roster-online').dataset.count).toBe('2');
      expect(screen.getByTestId('roster-online').textContent).toContain('在线 2 / 3');
      const county = groups().find((group) => group.key === '示范市/甲县')!;
      expect(county.text).toContain('在线 2 / 3');
      expect(row('town-2').dataset.online).toBe('false');
      expect(row('town-2').textContent).toContain('未入会');
      expect(row('county-a').dataset.rollCall).toBe('present');
      expect(row('county-a').dataset.hasFloor).toBe('true');
      expect(row('town-1').dataset.rollCall).toBe('calling');
      expect(row('town-1').textContent).toContain('点名中');
      // Someone outside the directory goes to "other"; the offline unit is listed last in its county.
      expect(groups().map((group) => group.key)).toEqual(['示范市', '示范市/甲县', '\u0000other']);
      expect(memberIds()).toEqual(['county-a', 'town-1', 'unit:town-2', 'ops']);
      expect(screen.queryAllByTestId('unit-menu-button')).toHaveLength(0);
    });

    it('counts invited units: the header equals the root group, and a search leaves every count alone', async () => {
      const laptop = { ...participant('town-1-laptop', '一镇', undefined), unitId: 'town-1' };
      renderRoster({
        participants: [participant('county-a', '甲县', undefined), participant('town-1', '一镇', undefined), laptop],
        // The chair's own unit is not invited: it is listed but not counted.
        self: { id: 'chair', identity: 'city', unitId: 'city', role: 'chair', name: '示范市', isAdmin: false, handRaised: false, attributes: {} },
        directory,
      });
      const counts = (): Array<[string, string | undefined, string | undefined]> => [
        ['header', screen.getByTestId('roster-online').dataset.count, screen.getByTestId('roster-online').dataset.total],
        ...screen.getAllByTestId('roster-group').map((element): [string, string | undefined, string | undefined] => [element.dataset.key ?? '', element.dataset.online, element.dataset.listed]),
      ];
      // Two devices of 一镇 count once: 2 of the 3 invited units are online, everywhere.
      expect(counts()).toEqual([
        ['header', '2', '3'],
        ['示范市', '2', '3'],
        ['示范市/甲县', '2', '3'],
      ]);
      expect(screen.getByTestId('roster-online').textContent).toContain('在线 2 / 3');
      expect(groups()[0]!.text).toContain('在线 2 / 3');
      expect(memberIds()).toContain('chair');

      await fireEvent.input(screen.getByTestId('roster-search'), { target: { value: '二镇' } });
      expect(memberIds()).toEqual(['unit:town-2']);
      expect(counts()).toEqual([
        ['header', '2', '3'],
        ['示范市', '2', '3'],
        ['示范市/甲县', '2', '3'],
      ]);
    });

    it('gives chairs a keyboard-operable menu of unit actions', async () => {
      const rollCall = vi.fn(async () => ({ unitId: 'town-2' }));
      const onWatch = vi.fn();
      renderRoster({
        participants: [participant('county-a', '甲县', undefined)],
        directory,
        chair: {
          actions: { rollCall } as never,
          can: (action) => action !== 'removeParticipant',
          watchUnitId: null,
          onWatch,
          broadcastUnitId: null,
        },
      });
      await fireEvent.click(within(row('town-2')).getByTestId('unit-menu-button'));
      const menu = screen.getByRole('menu');
      // An offline unit: only the unit actions, no mute or remove.
      expect(within(menu).getAllByRole('menuitem').map((item) => item.dataset.testid)).toEqual([
        'unit-action-roll-call',
        'unit-action-broadcast',
        'unit-action-watch',
        'unit-action-floor',
      ]);
      expect(document.activeElement).toBe(screen.getByTestId('unit-action-roll-call'));
      await fireEvent.keyDown(menu, { key: 'ArrowDown' });
      await fireEvent.keyDown(menu, { key: 'ArrowDown' });
      expect(document.activeElement).toBe(screen.getByTestId('unit-action-watch'));
      await fireEvent.click(screen.getByTestId('unit-action-watch'));
      expect(onWatch).toHaveBeenCalledWith('town-2');
      expect(screen.queryByRole('menu')).toBeNull();

      await fireEvent.click(within(row('town-2')).getByTestId('unit-menu-button'));
      await fireEvent.click(screen.getByTestId('unit-action-roll-call'));
      expect(rollCall).toHaveBeenCalledWith('town-2');

      await fireEvent.click(within(row('county-a')).getByTestId('unit-menu-button'));
      expect(screen.getByTestId('unit-action-mute')).toBeTruthy();
      await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
      expect(screen.queryByRole('menu')).toBeNull();

      // From the keyboard: the focused row opens its menu, and closing gives the focus back to the row.
      for (const key of [{ key: 'Enter' }, { key: 'ContextMenu' }, { key: 'F10', shiftKey: true }]) {
        rowOf(row('town-2')).focus();
        await fireEvent.keyDown(document.activeElement!, key);
        expect(screen.getByRole('menu').dataset.unitId).toBe('town-2');
        expect(document.activeElement).toBe(screen.getByTestId('unit-action-roll-call'));
        await fireEvent.keyDown(screen.getByRole('menu'), { key: 'Escape' });
        expect(screen.queryByRole('menu')).toBeNull();
        expect(document.activeElement).toBe(rowOf(row('town-2')));
      }
    });

    it('is one Tab stop: no group or menu button between the list and what follows it', () => {
      renderRoster({
        participants: [participant('county-a', '甲县', undefined)],
        directory,
        chair: { actions: {} as never, can: () => true, watchUnitId: null, onWatch: () => undefined, broadcastUnitId: null },
      });
      const after = document.body.appendChild(document.createElement('button'));
      try {
        const list = screen.getByTestId('roster-list');
        expect(screen.getAllByTestId('unit-menu-button').length).toBeGreaterThan(0);
        const stops = tabStops();
        const inList = stops.filter((stop) => list.contains(stop));
        expect(inList.map((stop) => stop.dataset.rowIndex)).toEqual(['0']);
        const at = stops.indexOf(inList[0]!);
        expect(stops[at - 1]).toBe(screen.getByTestId('roster-hands-only'));
        expect(stops[at + 1]).toBe(after);
      } finally {
        after.remove();
      }
    });
  });

  it('walks 600 units with the keyboard: the list is one Tab stop and arrows reach rows not yet rendered', async () => {
    const many = Array.from({ length: 600 }, (_, i) => participant(`u${i}`, `单位${String(i).padStart(3, '0')}`, '甲县'));
    renderRoster({ participants: many });
    const list = screen.getByTestId('roster-list');
    const focusable = (): HTMLElement[] => [...list.querySelectorAll<HTMLElement>('[data-row-index]')].filter((row) => row.tabIndex === 0);
    expect(focusable().map((row) => row.dataset.rowIndex)).toEqual(['0']);
    const first = focusable()[0]!;
    first.focus();
    const activeRow = (): string | undefined => (document.activeElement as HTMLElement | null)?.dataset.rowIndex;
    for (let i = 0; i < 40; i++) await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    await waitFor(() => expect(activeRow()).toBe('40'));
    expect(focusable().map((row) => row.dataset.rowIndex)).toEqual(['40']);
    await fireEvent.keyDown(document.activeElement!, { key: 'End' });
    await waitFor(() => expect(activeRow()).toBe('600')); // the group row comes first: 601 rows
    expect(document.activeElement!.getAttribute('aria-posinset')).toBe('601');
    await fireEvent.keyDown(document.activeElement!, { key: 'Home' });
    await waitFor(() => expect(activeRow()).toBe('0'));
  });

  it('keeps the focus on the active row while it is scrolled out of view and back', async () => {
    const many = Array.from({ length: 600 }, (_, i) => participant(`u${i}`, `单位${String(i).padStart(3, '0')}`, '甲县'));
    renderRoster({ participants: many });
    const list = screen.getByTestId('roster-list');
    const activeRow = (): string | undefined => (document.activeElement as HTMLElement | null)?.dataset.rowIndex;
    const rendered = (index: number): HTMLElement | null => list.querySelector<HTMLElement>(`[data-row-index="${index}"]`);
    rendered(0)!.focus();
    for (let i = 0; i < 5; i++) await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    await waitFor(() => expect(activeRow()).toBe('5'));
    const focused = document.activeElement;

    // Scrolled away (by the wheel): the rows around it are gone, the focused row stays.
    list.scrollTop = 300 * 34;
    await fireEvent.scroll(list);
    expect(rendered(6)).toBeNull();
    expect(rendered(300)).not.toBeNull();
    expect(document.activeElement).toBe(focused);
    list.scrollTop = 0;
    await fireEvent.scroll(list);
    expect(document.activeElement).toBe(focused);
    expect(activeRow()).toBe('5');

    // Arrows far down and back up: the focus follows the active row the whole way.
    for (let i = 0; i < 10; i++) await fireEvent.keyDown(document.activeElement!, { key: 'PageDown' });
    await waitFor(() => expect(Number(activeRow())).toBeGreaterThan(100));
    const far = Number(activeRow());
    expect(rendered(5)).toBeNull();
    for (let i = 0; i < 3; i++) await fireEvent.keyDown(document.activeElement!, { key: 'ArrowUp' });
    await waitFor(() => expect(activeRow()).toBe(String(far - 3)));
    // Ten pages up lands three rows above where the ten pages down started; three down is row 5 again.
    for (let i = 0; i < 10; i++) await fireEvent.keyDown(document.activeElement!, { key: 'PageUp' });
    await waitFor(() => expect(activeRow()).toBe('2'));
    for (let i = 0; i < 3; i++) await fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    await waitFor(() => expect(activeRow()).toBe('5'));
    expect(document.activeElement!.textContent).toContain('单位004');
    expect([...list.querySelectorAll<HTMLElement>('[data-row-index]')].filter((row) => row.tabIndex === 0)).toEqual([document.activeElement]);
  });
});
