package io.openshell.it;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;
import java.util.function.BooleanSupplier;

/**
 * Waits for state outside the JVM (processes in /proc, a gateway's answers) that sends no event:
 * polls every 50 ms up to a generous deadline.
 */
final class Awaits {
  private Awaits() {}

  static boolean poll(Duration within, BooleanSupplier condition) {
    long deadline = System.nanoTime() + within.toNanos();
    while (true) {
      if (condition.getAsBoolean()) return true;
      if (System.nanoTime() > deadline) return false;
      LockSupport.parkNanos(Duration.ofMillis(50).toNanos());
    }
  }

  static void require(Duration within, String what, BooleanSupplier condition) {
    if (!poll(within, condition)) throw new AssertionError("timed out after " + within.toSeconds() + " s waiting for " + what);
  }
}
