package io.openshell.client.sshproxy;

import java.time.Duration;
import java.util.Optional;

/**
 * When to try {@code CONNECT} again after {@code 412} (sandbox not ready yet, e.g. right after create or
 * while its supervisor reconnects): 1 s, doubling to 8 s, for at most 60 s in all (UPSTREAM.md §A CLI).
 * No other status is retried: they do not get better by waiting.
 */
final class ConnectRetry {
  static final Duration FIRST = Duration.ofSeconds(1);
  static final Duration MAX = Duration.ofSeconds(8);
  static final Duration BUDGET = Duration.ofSeconds(60);

  private ConnectRetry() {}

  /**
   * The pause after the {@code failures}-th refusal (1-based), {@code elapsed} after the first attempt began;
   * empty when that pause would end past the budget.
   */
  static Optional<Duration> delayAfter(int failures, Duration elapsed) {
    Duration delay = FIRST.multipliedBy(1L << Math.min(failures - 1, 10));
    if (delay.compareTo(MAX) > 0) delay = MAX;
    return elapsed.plus(delay).compareTo(BUDGET) > 0 ? Optional.empty() : Optional.of(delay);
  }
}
