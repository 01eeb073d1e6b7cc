package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.tunnel.TunnelCounters.Outcome;
import org.junit.jupiter.api.Test;

/** The connection caps (UPSTREAM §B 38 and §C "Tunnel"): 3 per token, 20 per sandbox, each release once. */
class TunnelCountersTest {
  private final TunnelCounters counters = new TunnelCounters(3, 20);

  @Test
  void theFourthConnectionOnATokenIsRefusedWithoutTouchingTheSandboxCounter() {
    for (int i = 0; i < 3; i++) assertEquals(Outcome.GRANTED, counters.acquire("lease-" + i, "token", "sandbox"));
    assertEquals(3, counters.sandboxCount("sandbox"));
    assertEquals(Outcome.TOKEN_LIMIT, counters.acquire("lease-3", "token", "sandbox"));
    assertEquals(3, counters.tokenCount("token"));
    assertEquals(3, counters.sandboxCount("sandbox"), "a per-token refusal never counts against the sandbox");
    assertEquals(3, counters.leaseCount());
  }

  @Test
  void aPerSandboxRefusalRollsBackTheTokenCounter() {
    for (int t = 0; t < 7; t++) {
      for (int c = 0; c < 3 && t * 3 + c < 20; c++) {
        assertEquals(Outcome.GRANTED, counters.acquire("lease-" + t + "-" + c, "token-" + t, "sandbox"));
      }
    }
    assertEquals(20, counters.sandboxCount("sandbox"));
    assertEquals(2, counters.tokenCount("token-6"));
    assertEquals(Outcome.SANDBOX_LIMIT, counters.acquire("lease-over", "token-6", "sandbox"));
    assertEquals(2, counters.tokenCount("token-6"), "the token's count is taken back");
    assertEquals(20, counters.sandboxCount("sandbox"));
    assertEquals(Outcome.SANDBOX_LIMIT, counters.acquire("lease-new-token", "token-new", "sandbox"));
    assertEquals(0, counters.tokenCount("token-new"));
    assertEquals(Outcome.GRANTED, counters.acquire("lease-other", "token-new", "other-sandbox"), "other sandboxes are unaffected");
  }

  @Test
  void aLeaseIsReleasedExactlyOnce() {
    counters.acquire("lease-a", "token", "sandbox");
    counters.acquire("lease-b", "token", "sandbox");
    assertTrue(counters.release("lease-a"));
    assertFalse(counters.release("lease-a"), "a second release is a no-op");
    assertFalse(counters.release("never-granted"));
    assertEquals(1, counters.tokenCount("token"));
    assertEquals(1, counters.sandboxCount("sandbox"));
    assertTrue(counters.release("lease-b"));
    assertEquals(0, counters.tokenCount("token"));
    assertEquals(0, counters.sandboxCount("sandbox"));
    assertEquals(0, counters.trackedKeys(), "zero counts are dropped, so memory stays bounded");
  }

  @Test
  void refusedLeasesHoldNothingToRelease() {
    for (int i = 0; i < 3; i++) counters.acquire("lease-" + i, "token", "sandbox");
    counters.acquire("refused", "token", "sandbox");
    assertFalse(counters.release("refused"));
    assertEquals(3, counters.tokenCount("token"));
  }

  @Test
  void acquiringTheSameLeaseTwiceCountsItOnce() {
    assertEquals(Outcome.GRANTED, counters.acquire("lease", "token", "sandbox"));
    assertEquals(Outcome.GRANTED, counters.acquire("lease", "token", "sandbox"));
    assertEquals(1, counters.tokenCount("token"));
    assertEquals(1, counters.sandboxCount("sandbox"));
  }

  @Test
  void aReleasedSlotIsFreeAgain() {
    for (int i = 0; i < 3; i++) counters.acquire("lease-" + i, "token", "sandbox");
    counters.release("lease-1");
    assertEquals(Outcome.GRANTED, counters.acquire("lease-3", "token", "sandbox"));
  }
}
