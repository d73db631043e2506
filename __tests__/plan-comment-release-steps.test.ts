/** The plan comment says which services a release takes through smoke checks and a canary, from the slotted containers a plan creates. */
import { DEFAULT_CANARY, releaseStepLabels } from '../system/releases';
import { renderPlanComment } from '../scripts/plan-comment/render';
import { containerChange, planJson } from './helpers/plan-json';

const container = containerChange;
const plan = planJson;

describe('release steps in the plan comment', () => {
  const production = releaseStepLabels({ canary: DEFAULT_CANARY, rollbackWindowMinutes: 60 }, [{ name: 'ready' }, { name: 'login' }]);
  const staging = releaseStepLabels({ canary: undefined, rollbackWindowMinutes: 60 }, []);

  it('names each slotted service a plan releases, its smoke checks and whether it canaries', () => {
    const body = renderPlanComment([
      {
        stack: 'production-chat',
        plan: plan([
          container('chat-backend-green', ['create'], { product: 'chat', service: 'backend', 'image.tag': 'main-abc1234', 'release.slot': 'green', ...production }),
          // Its second replica is the same release.
          container('chat-backend-green-2', ['create'], { product: 'chat', service: 'backend', 'image.tag': 'main-abc1234', 'release.slot': 'green', ...production }),
          container('chat-backend-smoke-ready', ['create'], { product: 'chat', service: 'backend', task: 'smoke-ready', 'release.step': 'smoke', 'image.tag': 'main-abc1234' }),
          container('chat-web', ['create', 'delete'], { product: 'chat', service: 'web', 'image.tag': 'main-abc1234' }),
        ]),
      },
      { stack: 'staging-chat', plan: plan([container('chat-backend-blue', ['create'], { product: 'chat', service: 'backend', 'image.tag': 'main-abc1234', 'release.slot': 'blue', ...staging })]) },
    ]).body;
    expect(body).toContain('### Release steps');
    expect(body).toContain('- `production-chat`: `chat/backend` `main-abc1234` into green: smoke checks `ready`, `login`; canary 10% for 10 min; rollback window 60 min');
    expect(body).toContain('- `staging-chat`: `chat/backend` `main-abc1234` into blue: no smoke checks; no canary (all traffic once the checks pass); rollback window 60 min');
    expect(body).toContain('1 of 2 service(s) canary.');
    // A smoke runner is a step, not a release task; an unslotted service is released as before.
    expect(body).not.toContain('### Release tasks');
    expect(body.match(/into (green|blue)/g)).toHaveLength(2);
  });

  it('says nothing of release steps when no slotted service is released', () => {
    const body = renderPlanComment([{ stack: 'production-chat', plan: plan([container('chat-web', ['create', 'delete'], { product: 'chat', service: 'web', 'image.tag': 'main-abc1234' })]) }]).body;
    expect(body).not.toContain('Release steps');
  });
});
