package io.openshell.gateway.ssh;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

/** The token rules a tunnel request is held to (UPSTREAM §C "Tunnel": expiry, zero expiry, revoked). */
class SshSessionTest {
  private static final long CREATED = 1_000_000L;

  private static SshSession session(long expiresAtMs, boolean revoked) {
    return new SshSession("id-1", "token-abcd1234", "sandbox-1", "ssh-demo-id", CREATED, expiresAtMs, revoked);
  }

  @Test
  void aLiveTokenIsValidForItsOwnSandboxOnly() {
    SshSession session = session(CREATED + 60_000, false);
    assertEquals(TokenVerdict.VALID, session.verdict("sandbox-1", CREATED + 1));
    assertEquals(TokenVerdict.OTHER_SANDBOX, session.verdict("sandbox-2", CREATED + 1));
  }

  @Test
  void aTokenExpiresAtItsExpiryInstant() {
    SshSession session = session(CREATED + 60_000, false);
    assertEquals(TokenVerdict.VALID, session.verdict("sandbox-1", CREATED + 59_999));
    assertEquals(TokenVerdict.EXPIRED, session.verdict("sandbox-1", CREATED + 60_000));
    assertEquals(TokenVerdict.EXPIRED, session.verdict("sandbox-1", CREATED + 10_000_000));
    assertTrue(session.reapable(CREATED + 60_000));
    assertFalse(session.reapable(CREATED + 59_999));
  }

  @Test
  void zeroExpiryNeverExpires() {
    SshSession session = session(0, false);
    assertEquals(TokenVerdict.VALID, session.verdict("sandbox-1", Long.MAX_VALUE));
    assertFalse(session.reapable(Long.MAX_VALUE));
  }

  @Test
  void aRevokedTokenIsRefusedEvenBeforeItExpiresAndIsReapable() {
    SshSession session = session(0, false).asRevoked();
    assertEquals(TokenVerdict.REVOKED, session.verdict("sandbox-1", CREATED));
    assertTrue(session.reapable(CREATED));
  }

  @Test
  void theTtlSettingGivesTheExpiryAndZeroMeansNone() {
    assertEquals(CREATED + 86_400_000L,
        new SshSessionSettings(java.time.Duration.ofSeconds(86400), java.time.Duration.ofHours(1), 100).expiresAtMs(CREATED));
    assertEquals(0, new SshSessionSettings(java.time.Duration.ZERO, java.time.Duration.ofHours(1), 100).expiresAtMs(CREATED));
  }

  @Test
  void tokensAreRedactedToTheirLastFourCharacters() {
    assertEquals("****1234", TokenRedaction.redact("token-abcd1234"));
    assertEquals("****", TokenRedaction.redact("abcd"));
    assertEquals("****", TokenRedaction.redact(""));
    assertFalse(session(0, false).toString().contains("token-abcd1234"), "a logged session never shows its token");
    assertTrue(session(0, false).toString().contains("****1234"));
  }
}
