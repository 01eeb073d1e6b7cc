package io.openshell.supervisor.session;

import java.time.Duration;

/**
 * Reconnect delays: {@code initial} doubling per consecutive failure up to {@code max}, each drawn
 * from {@code [d * (1 - jitter), d]} so a fleet of supervisors does not reconnect in lockstep.
 * Unlike upstream, {@link #reset()} after a session was accepted starts over at {@code initial}.
 * Immutable: the actor keeps the current value in its behaviour.
 */
public record ReconnectBackoff(Duration initial, Duration max, double jitter, int failures) {

  public static ReconnectBackoff start(Duration initial, Duration max, double jitter) {
    return new ReconnectBackoff(initial, max, jitter, 0);
  }

  /** Number of the attempt that {@link #nextDelay} waits for (1 after the first failure). */
  public int attempt() {
    return failures + 1;
  }

  /** The delay before reconnecting after the next failure, before jitter. */
  public Duration baseDelay() {
    long initialMs = initial.toMillis();
    long maxMs = max.toMillis();
    // Doubling past 2^20 can only overshoot max; stop shifting early to avoid overflow.
    int shift = Math.min(failures, 20);
    long ms = initialMs << shift;
    return Duration.ofMillis(Math.min(ms, maxMs));
  }

  /** The jittered delay; {@code random} in [0, 1). */
  public Duration nextDelay(double random) {
    double factor = 1.0 - jitter * random;
    return Duration.ofMillis(Math.round(baseDelay().toMillis() * factor));
  }

  /** After a failed (or ended) attempt. */
  public ReconnectBackoff failed() {
    return new ReconnectBackoff(initial, max, jitter, failures + 1);
  }

  /** After a session was accepted. */
  public ReconnectBackoff reset() {
    return new ReconnectBackoff(initial, max, jitter, 0);
  }
}
