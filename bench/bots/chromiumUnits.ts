// Real headless Chromium participants beside the bots: they open the built web client's autojoin
// link with Chromium's own fake camera and microphone, and report what they decoded.
import { chromium, type Browser, type Page } from 'playwright-core';

/** The part of the web client's automation hook (web-client/src/lib/automation.ts) read here. */
interface AutomationGlobal {
  __cityconf?: {
    state(): { phase: string };
    inboundStats(): Promise<{ participantId: string; kind: 'audio' | 'video'; framesDecoded: number }[]>;
  };
}

const JOIN_TIMEOUT_MS = 60_000;

/** Debian's headless Chromium with fake media devices (`fakeDevice`: the switch, with its options). */
export function launchChromium(fakeDevice = '--use-fake-device-for-media-stream'): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      fakeDevice,
      '--use-fake-ui-for-media-stream',
      '--autoplay-policy=no-user-gesture-required',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

export class ChromiumUnits {
  private constructor(
    private readonly browser: Browser,
    readonly pages: Page[],
  ) {}

  /** Launches one Chromium and joins `links.length` participants, each in its own context. */
  static async join(links: string[]): Promise<ChromiumUnits> {
    const browser = await launchChromium();
    const pages: Page[] = [];
    const units = new ChromiumUnits(browser, pages);
    try {
      for (const link of links) {
        const context = await browser.newContext({ viewport: { width: 960, height: 600 } });
        const page = await context.newPage();
        await page.goto(link, { timeout: 30_000 });
        const joined = () => (globalThis as AutomationGlobal).__cityconf?.state().phase === 'joined';
        await page.waitForFunction(joined, undefined, { timeout: JOIN_TIMEOUT_MS });
        pages.push(page);
      }
    } catch (error) {
      await units.close();
      throw error;
    }
    return units;
  }

  /** Video frames each page has decoded so far from these participants (the speakers). */
  async framesDecoded(participantIds: Set<string>): Promise<number[]> {
    return Promise.all(
      this.pages.map(async (page) => {
        const stats = await page.evaluate(() => (globalThis as AutomationGlobal).__cityconf!.inboundStats());
        return stats
          .filter((entry) => entry.kind === 'video' && participantIds.has(entry.participantId))
          .reduce((sum, entry) => sum + entry.framesDecoded, 0);
      }),
    );
  }

  async close(): Promise<void> {
    await this.browser.close();
  }
}
