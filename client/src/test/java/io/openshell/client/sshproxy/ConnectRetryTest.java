package io.openshell.client.sshproxy;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ConnectRetryTest {

  /** The pauses taken when every attempt is refused at once, until the schedule gives up. */
  private static List<Long> scheduleWithInstantRefusals() {
    List<Long> pauses = new ArrayList<>();
    Duration elapsed = Duration.ZERO;
    for (int failures = 1; ; failures++) {
      Optional<Duration> delay = ConnectRetry.delayAfter(failures, elapsed);
      if (delay.isEmpty()) return pauses;
      pauses.add(delay.get().toSeconds());
      elapsed = elapsed.plus(delay.get());
    }
  }

  @Test
  void pausesDoubleFromOneSecondToEightAndStopWithinSixtySeconds() {
    List<Long> pauses = scheduleWithInstantRefusals();
    assertEquals(List.of(1L, 2L, 4L, 8L, 8L, 8L, 8L, 8L, 8L), pauses);
    assertTrue(pauses.stream().mapToLong(Long::longValue).sum() <= 60);
  }

  @Test
  void slowAttemptsCountAgainstTheBudget() {
    assertEquals(Optional.of(Duration.ofSeconds(8)), ConnectRetry.delayAfter(5, Duration.ofSeconds(52)));
    assertEquals(Optional.empty(), ConnectRetry.delayAfter(5, Duration.ofSeconds(53)));
    assertEquals(Optional.empty(), ConnectRetry.delayAfter(1, Duration.ofMillis(59_001)));
    assertEquals(Optional.of(Duration.ofSeconds(8)), ConnectRetry.delayAfter(1000, Duration.ZERO));
  }
}
