import { Args } from '@oclif/core';
import { AppsClient } from '@agora/long-running';
import { BaseCommand } from '../../base-command.js';
import { jsonFlag } from '../../flags.js';
import { renderTable } from '../../table.js';
import { apiFlag, call } from './deploy.js';

interface Why {
  app: { id: string; instances: number };
  tasksRunning: number; tasksStaged: number; waiting: number; waitingFor: string; summary: string[];
  lastOffers: { at: string; offerId: string; hostname: string; outcome: string; reason: string }[];
}

export default class AppWhyCommand extends BaseCommand {
  static override summary = "Explain why an app is not (fully) running: the last offers considered and why each was declined.";
  static override description = 'Reasons: a placement constraint, insufficient cpus/mem/disk/ports in the offer, an offer for another role, launch backoff after failures, a dependency still deploying.';
  static override examples = ['<%= config.bin %> app why /shop/web'];
  static override args = { id: Args.string({ description: 'App ID.', required: true }) };
  static override flags = { api: apiFlag, json: jsonFlag };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(AppWhyCommand);
    const w = await call(() => new AppsClient(flags.api).request<Why>('GET', `${AppsClient.appPath(args.id)}/why`));
    if (flags.json) { this.printJson(w); return; }
    this.log(`${w.app.id}: ${w.tasksRunning} of ${w.app.instances} running, ${w.tasksStaged} staging, ${w.waiting} waiting for an offer`);
    if (w.waitingFor) this.log(`deployment waits for: ${w.waitingFor}`);
    for (const s of w.summary) this.log(`- ${s}`);
    if (w.lastOffers.length) {
      this.log('');
      this.log(renderTable(['WHEN', 'HOST', 'OFFER', 'OUTCOME', 'WHY'], w.lastOffers.slice(-10).map((o) => [o.at.slice(11, 23), o.hostname, o.offerId, o.outcome, o.reason])));
    }
  }
}
