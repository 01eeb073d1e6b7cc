package io.openshell.gateway.ssh;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.persistence.testkit.javadsl.EventSourcedBehaviorTestKit;
import org.apache.pekko.persistence.typed.PersistenceId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The SSH session registry: create, revoke, check, delete with the sandbox, reaping, recovery. */
class SshSessionsTest {
  private static final Config CONFIG = ManualTime.config()
      .withFallback(EventSourcedBehaviorTestKit.config())
      .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
      .withFallback(ConfigFactory.load());
  private static final ActorTestKit testKit = ActorTestKit.create("SshSessionsTest", CONFIG);
  private static final ManualTime time = ManualTime.get(testKit.system());
  private static final SshSessionSettings SETTINGS =
      new SshSessionSettings(Duration.ofSeconds(60), Duration.ofHours(1), 100);

  private final AtomicLong now = new AtomicLong(1_700_000_000_000L);
  private EventSourcedBehaviorTestKit<SshSessions.Command, SshSessions.Event, SshSessions.State> registry;

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void start() {
    registry = registry(SETTINGS);
  }

  private EventSourcedBehaviorTestKit<SshSessions.Command, SshSessions.Event, SshSessions.State> registry(
      SshSessionSettings settings) {
    return EventSourcedBehaviorTestKit.create(testKit.system(),
        SshSessions.create(PersistenceId.ofUniqueId("SshSessions-" + UUID.randomUUID()), settings, now::get));
  }

  private SshSession create(String sandboxId) {
    var result = registry.<SshSession>runCommand(replyTo -> new SshSessions.Create(sandboxId, "demo", replyTo));
    assertInstanceOf(SshSessions.SshSessionCreated.class, result.event());
    return result.reply();
  }

  private TokenVerdict check(String token, String sandboxId) {
    return registry.<TokenVerdict>runCommand(replyTo -> new SshSessions.Check(token, sandboxId, replyTo)).reply();
  }

  private boolean revoke(String token) {
    return registry.<SshSessions.Revoked>runCommand(replyTo -> new SshSessions.Revoke(token, replyTo)).reply().revoked();
  }

  @Test
  void createdSessionsArePersistedWithAUuidTokenAndTheTtlExpiry() {
    SshSession session = create("sandbox-1");
    assertEquals(4, UUID.fromString(session.token()).version());
    assertEquals("sandbox-1", session.sandboxId());
    assertEquals(now.get(), session.createdAtMs());
    assertEquals(now.get() + 60_000, session.expiresAtMs());
    assertFalse(session.revoked());
    assertTrue(session.name().startsWith("ssh-demo-"));
    assertEquals(session, registry.getState().find(session.token()));
    assertFalse(registry.getState().byToken().containsKey(session.token()), "the token itself is never a map key");
    assertEquals(TokenVerdict.VALID, check(session.token(), "sandbox-1"));
  }

  @Test
  void aZeroTtlGivesSessionsThatNeverExpire() {
    registry = registry(new SshSessionSettings(Duration.ZERO, Duration.ofHours(1), 100));
    SshSession session = create("sandbox-1");
    assertEquals(0, session.expiresAtMs());
    now.addAndGet(Duration.ofDays(365).toMillis());
    assertEquals(TokenVerdict.VALID, check(session.token(), "sandbox-1"));
  }

  @Test
  void checksFollowTheTokenRules() {
    SshSession session = create("sandbox-1");
    assertEquals(TokenVerdict.UNKNOWN, check("no-such-token", "sandbox-1"));
    assertEquals(TokenVerdict.OTHER_SANDBOX, check(session.token(), "sandbox-2"));
    now.addAndGet(60_000);
    assertEquals(TokenVerdict.EXPIRED, check(session.token(), "sandbox-1"));
  }

  @Test
  void revokingAnUnknownTokenAnswersFalseAndPersistsNothing() {
    var result = registry.<SshSessions.Revoked>runCommand(replyTo -> new SshSessions.Revoke("nope", replyTo));
    assertFalse(result.reply().revoked());
    assertTrue(result.hasNoEvents());
  }

  @Test
  void revokingAKnownTokenPersistsItAndTheTokenNoLongerChecks() {
    SshSession session = create("sandbox-1");
    var result = registry.<SshSessions.Revoked>runCommand(replyTo -> new SshSessions.Revoke(session.token(), replyTo));
    assertTrue(result.reply().revoked());
    assertEquals(new SshSessions.SshSessionRevoked(session.token()), result.event());
    assertEquals(TokenVerdict.REVOKED, check(session.token(), "sandbox-1"));
    assertTrue(revoke(session.token()), "revoking twice still answers revoked");
  }

  @Test
  void deletingASandboxDropsOnlyItsSessions() {
    SshSession a1 = create("sandbox-a");
    SshSession a2 = create("sandbox-a");
    SshSession b = create("sandbox-b");
    var result = registry.runCommand(new SshSessions.DeleteForSandbox("sandbox-a"));
    assertEquals(new SshSessions.SandboxSshSessionsDeleted("sandbox-a"), result.event());
    assertEquals(TokenVerdict.UNKNOWN, check(a1.token(), "sandbox-a"));
    assertEquals(TokenVerdict.UNKNOWN, check(a2.token(), "sandbox-a"));
    assertEquals(TokenVerdict.VALID, check(b.token(), "sandbox-b"));
    assertFalse(revoke(a1.token()));
    assertTrue(registry.runCommand(new SshSessions.DeleteForSandbox("sandbox-a")).hasNoEvents(), "a repeat changes nothing");
  }

  @Test
  void theHourlyReaperDropsExpiredAndRevokedSessionsAndKeepsLiveOnes() {
    SshSession expiring = create("sandbox-1");
    now.addAndGet(30_000);
    SshSession live = create("sandbox-1");
    SshSession revoked = create("sandbox-1");
    revoke(revoked.token());
    now.addAndGet(30_000);

    time.timePasses(Duration.ofMinutes(59));
    assertEquals(3, registry.getState().byToken().size(), "nothing is reaped before the hour");
    time.timePasses(Duration.ofMinutes(1));
    assertEquals(java.util.Set.of(SshSessions.State.key(live.token())), registry.getState().byToken().keySet());
    assertEquals(TokenVerdict.UNKNOWN, check(expiring.token(), "sandbox-1"));
    assertEquals(TokenVerdict.VALID, check(live.token(), "sandbox-1"));
  }

  @Test
  void sessionsAndRevocationsSurviveARestart() {
    SshSession kept = create("sandbox-1");
    SshSession revoked = create("sandbox-1");
    revoke(revoked.token());
    registry.restart();
    assertEquals(TokenVerdict.VALID, check(kept.token(), "sandbox-1"));
    assertEquals(TokenVerdict.REVOKED, check(revoked.token(), "sandbox-1"));
  }

  @Test
  void loggedCommandsAndEventsNeverShowAToken() {
    SshSession session = create("sandbox-1");
    assertFalse(new SshSessions.SshSessionCreated(session).toString().contains(session.token()));
    assertFalse(new SshSessions.SshSessionRevoked(session.token()).toString().contains(session.token()));
    assertFalse(new SshSessions.Check(session.token(), "sandbox-1", null).toString().contains(session.token()));
    assertFalse(new SshSessions.Revoke(session.token(), null).toString().contains(session.token()));
    assertFalse(registry.getState().toString().contains(session.token()));
  }

  @Test
  void aSnapshotKeyedByPlainTokensIsReKeyedByDigestSoItsTokensStillCheck() {
    SshSession session = new SshSession("id-1", "token-abcd1234", "sandbox-1", "ssh-demo-id", now.get(), 0, false);
    SshSessions.State old = new SshSessions.State(java.util.Map.of(session.token(), session));
    assertEquals(java.util.Set.of(SshSessions.State.key(session.token())), old.byToken().keySet());
    assertEquals(session, old.find(session.token()));
    assertNull(old.find("token-abcd1235"));
  }

  @Test
  void anExpiredOrRevokedTokenIsRefusedWithItsVerdict() {
    SshSession expiring = create("sandbox-1");
    SshSession revoked = create("sandbox-1");
    assertTrue(revoke(revoked.token()));
    assertEquals(TokenVerdict.REVOKED, check(revoked.token(), "sandbox-1"));
    now.addAndGet(60_001);
    assertEquals(TokenVerdict.EXPIRED, check(expiring.token(), "sandbox-1"));
  }
}
