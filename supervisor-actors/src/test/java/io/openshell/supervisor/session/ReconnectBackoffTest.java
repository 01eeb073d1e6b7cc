package io.openshell.supervisor.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReconnectBackoffTest {

  private static final ReconnectBackoff UPSTREAM =
      ReconnectBackoff.start(Duration.ofSeconds(1), Duration.ofSeconds(30), 0.2);

  @Test
  void delaysDoubleFromOneSecondAndCapAtThirty() {
    List<Long> seconds = new ArrayList<>();
    ReconnectBackoff b = UPSTREAM;
    for (int i = 0; i < 9; i++) {
      seconds.add(b.baseDelay().toSeconds());
      b = b.failed();
    }
    assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L, 30L), seconds);
  }

  @Test
  void attemptNumbersCountConsecutiveFailuresFromOne() {
    assertEquals(1, UPSTREAM.attempt());
    assertEquals(3, UPSTREAM.failed().failed().attempt());
  }

  @Test
  void jitterOnlyShortensTheDelayAndByAtMostTheJitterFraction() {
    ReconnectBackoff b = UPSTREAM.failed().failed(); // base 4 s
    assertEquals(Duration.ofSeconds(4), b.nextDelay(0.0));
    assertEquals(Duration.ofMillis(3200), b.nextDelay(1.0));
    for (double r = 0; r < 1; r += 0.01) {
      long ms = b.nextDelay(r).toMillis();
      assertTrue(ms >= 3200 && ms <= 4000, "delay " + ms + " outside [3200, 4000]");
    }
    ReconnectBackoff capped = UPSTREAM;
    for (int i = 0; i < 40; i++) {
      capped = capped.failed();
    }
    assertTrue(capped.nextDelay(0.0).compareTo(Duration.ofSeconds(30)) <= 0, "never above max");
    assertTrue(capped.nextDelay(0.999).compareTo(Duration.ofSeconds(24)) >= 0, "never below max * (1 - jitter)");
  }

  @Test
  void resetStartsOverAtTheInitialDelay() {
    ReconnectBackoff b = UPSTREAM.failed().failed().failed().failed().failed().failed();
    assertEquals(Duration.ofSeconds(30), b.baseDelay());
    ReconnectBackoff reset = b.reset();
    assertEquals(Duration.ofSeconds(1), reset.baseDelay());
    assertEquals(1, reset.attempt());
  }

  @Test
  void zeroJitterGivesExactDelays() {
    ReconnectBackoff b = ReconnectBackoff.start(Duration.ofMillis(100), Duration.ofMillis(800), 0.0);
    assertEquals(Duration.ofMillis(100), b.nextDelay(0.7));
    assertEquals(Duration.ofMillis(800), b.failed().failed().failed().failed().nextDelay(0.7));
  }
}
