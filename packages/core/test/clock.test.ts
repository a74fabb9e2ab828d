import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../src/clock.js';

test('a system-clock timer longer than Node allows waits its full time', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let fired = 0;
    const day = 86_400_000;
    systemClock.setTimeout(() => { fired++; }, 40 * day);
    mock.timers.tick(1_000);
    assert.equal(fired, 0, 'fired at once (Node clamps 2^31 ms and more to 1 ms)');
    mock.timers.tick(30 * day);
    assert.equal(fired, 0, 'fired after 30 of 40 days');
    mock.timers.tick(10 * day);
    assert.equal(fired, 1);
  } finally {
    mock.timers.reset();
  }
});

test('a cancelled long timer never fires, even after re-arming', () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  try {
    let fired = 0;
    const h = systemClock.setTimeout(() => { fired++; }, 2 ** 32);
    mock.timers.tick(2 ** 31);
    h.cancel();
    mock.timers.tick(2 ** 32);
    assert.equal(fired, 0);
  } finally {
    mock.timers.reset();
  }
});
