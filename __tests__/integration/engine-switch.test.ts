/**
 * Moving one host from plain containers to Swarm (docs/scaling.md, "Moving an environment from containers to
 * Swarm"), step by step on a real dockerd 20.10 with busybox stand-ins: the host's layout before (bridge networks
 * `<system>-frontend` and `<system>-data`, a data container on its volume reached as `postgres`, an app container),
 * then the procedure's order: swarm init while everything runs; the product's containers removed (the window opens);
 * the data container disconnected, the bridges replaced by encrypted attachable overlays of the same names, the data
 * container connected to the new data overlay under the same alias; the service created. Measured: the window from
 * the app container stopping until the service answers by name over the overlay, as a probe inside the data
 * container sees it. Checked: the data container is the same container, never restarted, its volume's data intact.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { SwarmEngine } from '../helpers/swarm-engine';

jest.setTimeout(180_000);

const IMAGE = 'e2e-busybox:switch';
const SYSTEM = 'shop';
const [FRONTEND, DATA] = [`${SYSTEM}-frontend`, `${SYSTEM}-data`];
const APP = 'while true; do mkdir -p /www && echo ok > /www/index.html && exec httpd -f -p 8080 -h /www; done';

let engine: SwarmEngine;
beforeAll(async () => {
  engine = await SwarmEngine.start({ swarm: false });
  engine.importBusybox(IMAGE);
});
afterAll(async () => engine?.stop());

/**
 * The probe's lines (`<uptime> up|down`), none before it first wrote: read on this machine from the directory mounted
 * at /probe in the data container, not with a `docker exec` (a docker CLI run and a runc exec) every poll.
 */
const probeDirectory = () => path.join(engine.dir, 'probe');
const probeLog = () => (fs.existsSync(path.join(probeDirectory(), 'probe.log')) ? fs.readFileSync(path.join(probeDirectory(), 'probe.log'), 'utf8') : '').split('\n').filter(Boolean);

/** Host uptime in seconds (not namespaced: the probe inside the data container reads the same clock). */
const uptime = () => Number(fs.readFileSync('/proc/uptime', 'utf8').split(' ')[0]);

describe('containers to Swarm on one host', () => {
  it('keeps the data container and its volume, and the app answers again after the measured window', async () => {
    // Before: the layout of the containers engine.
    for (const network of [FRONTEND, DATA]) engine.cli(['network', 'create', '--driver', 'bridge', network]);
    engine.cli(['volume', 'create', 'postgres-data']);
    // The data container: serves its volume on 5432, and probes the app every 0.2 s, logging the host uptime each probe began at and its outcome.
    // `tasks.api` first: the service's virtual IP does not answer on this daemon (its own network namespace, started
    // with --iptables=false; a connection to it hangs, hence the timeouts), the task's own address over the overlay
    // does. Before the switch `tasks.api` does not resolve and the container `api` answers.
    const probe = 'while true; do at=$(cut -d" " -f1 /proc/uptime); if timeout 2 wget -q -O /dev/null http://tasks.api:8080/ || timeout 2 wget -q -O /dev/null http://api:8080/; then s=up; else s=down; fi; echo "$at $s" >> /probe/probe.log; sleep 0.2; done';
    fs.mkdirSync(probeDirectory());
    const dataId = engine.cli([
      'run', '-d', '--name', 'postgres', '--network', DATA, '--network-alias', 'postgres', '-v', 'postgres-data:/data', '-v', `${probeDirectory()}:/probe`, IMAGE,
      'sh', '-c', `test -f /data/rows || echo row-1 > /data/rows; (${probe}) & exec httpd -f -p 5432 -h /data`,
    ]);
    engine.cli(['run', '-d', '--name', 'api', '--network', FRONTEND, IMAGE, 'sh', '-c', APP]);
    engine.cli(['network', 'connect', DATA, 'api']);
    const started = engine.cli(['inspect', '--format', '{{.State.StartedAt}}', 'postgres']);
    await engine.until('the app answers the data container over the bridge', async () => probeLog().at(-1)?.endsWith(' up') === true, 30);

    // 1. swarm init while everything runs (the initializer's boot commands): nothing stops.
    await engine.api('POST', '/swarm/init', { ListenAddr: '127.0.0.1:2377', AdvertiseAddr: '127.0.0.1' });
    expect(probeLog().at(-1)).toMatch(/ up$/);

    // 2. The window opens: the product's containers go (the product stack's docker_container destroyed).
    const windowOpened = uptime();
    engine.cli(['rm', '-f', 'api']);
    // 3. The edge stack's networks: a bridge in use cannot be removed, so the data container leaves it first.
    engine.cli(['network', 'disconnect', DATA, 'postgres']);
    for (const network of [FRONTEND, DATA]) {
      engine.cli(['network', 'rm', network]);
      engine.cli(['network', 'create', '--driver', 'overlay', '--attachable', '--opt', 'encrypted', network]);
    }
    // 4. The data container joins the overlay of the same name under the same alias: its networks read as before.
    engine.cli(['network', 'connect', '--alias', 'postgres', DATA, 'postgres']);
    // 5. The product stack's docker_service.
    engine.cli(['service', 'create', '--detach', '--name', 'api', '--network', FRONTEND, '--network', DATA, '--health-cmd', 'wget -q -O /dev/null http://127.0.0.1:8080/', '--health-interval', '1s', IMAGE, 'sh', '-c', APP]);
    // The window, as the probe saw it: from the start of its first failure to the start of its next success.
    const window = () => {
      const all = probeLog().map((line) => line.split(' ')).map(([at, state]) => ({ at: Number(at), state }));
      // A probe that began before the removal may fail during it: count from the last success that began before.
      const lastUpBefore = Math.max(...all.filter(({ at, state }) => at < windowOpened && state === 'up').map(({ at }) => at));
      const log = all.filter(({ at }) => at > lastUpBefore);
      const down = log.find(({ state }) => state === 'down');
      const up = down && log.find(({ at, state }) => at > down.at && state === 'up');
      return { down, up, failed: log.filter(({ at, state }) => state === 'down' && down && at >= down.at && (!up || at < up.at)).length };
    };
    await engine.until('the service answers the data container over the overlay', async () => window().up !== undefined, 90).catch((error: Error) => {
      // What the data container sees at that moment, for a failure's message.
      const direct = (target: string) => { try { return engine.cli(['exec', 'postgres', 'sh', '-c', `nslookup ${target} 2>&1 | tail -3; timeout 2 wget -O - http://${target}:8080/ 2>&1; echo exit $?`]); } catch (e) { return String(e); } };
      throw new Error(`${error.message}\nprobe log tail: ${probeLog().slice(-5).join(' | ')}\ntasks.api: ${direct('tasks.api')}\napi: ${direct('api')}\nnetworks: ${engine.cli(['inspect', '--format', '{{json .NetworkSettings.Networks}}', 'postgres'])}`);
    });
    const { down, up, failed } = window();
    const seconds = up!.at - down!.at;
    console.log(`containers -> Swarm on one host: the app unreachable for ${seconds.toFixed(1)} s (first failed probe after its container's removal to the service answering over the overlay; ${failed} failed probes)`);
    expect(failed).toBeGreaterThan(0);
    expect(seconds).toBeLessThan(60);

    // The data container: the same one, never restarted, its volume's data intact, reachable by its alias from a task.
    expect(engine.cli(['inspect', '--format', '{{.Id}} {{.State.StartedAt}} {{.RestartCount}}', 'postgres'])).toBe(`${dataId} ${started} 0`);
    expect(engine.cli(['inspect', '--format', '{{range $name, $n := .NetworkSettings.Networks}}{{$name}} {{$n.Aliases}}{{end}}', 'postgres'])).toMatch(new RegExp(`^${DATA} \\[.*postgres.*\\]$`));
    const task = engine.cli(['ps', '-q', '--filter', 'label=com.docker.swarm.service.name=api']);
    expect(engine.cli(['exec', task, 'wget', '-q', '-O', '-', 'http://postgres:5432/rows'])).toBe('row-1');
  });
});
