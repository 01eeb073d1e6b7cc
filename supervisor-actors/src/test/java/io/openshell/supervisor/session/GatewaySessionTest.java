package io.openshell.supervisor.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.RelayOpen;
import io.openshell.protocol.v1.RelayOpenResult;
import io.openshell.protocol.v1.SupervisorHello;
import io.openshell.supervisor.Main;
import io.openshell.supervisor.SupervisorSettings;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The real GatewaySession and netty gRPC client against a real pekko-grpc server whose
 * ConnectSupervisor is scripted by each test. Intervals are shortened through settings.
 */
@ExtendWith(LogCapturingExtension.class)
class GatewaySessionTest {

  private static final Duration WAIT = Duration.ofSeconds(15);

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString(
                  "pekko.http.server.enable-http2 = on\n"
                      + "pekko.actor.testkit.typed.filter-leeway = 15s\n")
              .withFallback(ConfigFactory.load()));

  private ScriptedGateway gateway;
  private int port;
  private ActorRef<GatewaySession.Command> session;

  @BeforeEach
  void startGateway() throws Exception {
    gateway = new ScriptedGateway(testKit.system());
    port = gateway.start();
  }

  @AfterEach
  void stopAll() throws Exception {
    if (session != null) {
      testKit.stop(session, WAIT);
    }
    gateway.stop();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** Floor 200 ms, reconnect 100 ms doubling to 800 ms, no jitter unless given. */
  private SupervisorSettings settings(String sandboxId, String extra) {
    Config config =
        ConfigFactory.parseString(
                "openshell.supervisor {\n"
                    + "  endpoint = \"http://127.0.0.1:" + port + "\"\n"
                    + "  sandbox-id = \"" + sandboxId + "\"\n"
                    + "  session.heartbeat-floor = 200ms\n"
                    + "  session.reconnect { initial = 100ms, max = 800ms, jitter = 0 }\n"
                    + "}\n"
                    + extra)
            .withFallback(ConfigFactory.load());
    return SupervisorSettings.fromConfig(config);
  }

  private SupervisorSettings settings(String sandboxId) {
    return settings(sandboxId, "");
  }

  private void startSession(SupervisorSettings settings) {
    session = testKit.spawn(GatewaySession.create(settings));
  }

  private static long millisBetween(ScriptedGateway.Received a, ScriptedGateway.Received b) {
    return Duration.ofNanos(b.atNanos() - a.atNanos()).toMillis();
  }

  @Test
  void helloIsTheFirstMessageAndCarriesTheSandboxIdAndAnInstanceId() throws Exception {
    SupervisorSettings settings = settings("sbx-hello");
    startSession(settings);

    SupervisorHello hello = gateway.nextCall(WAIT).expectHello(WAIT).message().getHello();

    assertEquals("sbx-hello", hello.getSandboxId());
    assertEquals(settings.instanceId(), hello.getInstanceId());
    UUID.fromString(hello.getInstanceId());
  }

  @Test
  void heartbeatsFollowTheAcceptedIntervalWhenItIsAboveTheFloor() throws Exception {
    gateway.echoingHeartbeats();
    startSession(settings("sbx-hb"));
    ScriptedGateway.Call call = gateway.nextCall(WAIT);
    call.expectHello(WAIT);

    LoggingTestKit.info("supervisor session established (session_id=s-1, heartbeat_secs=1)")
        .expect(testKit.system(), () -> {
          call.accept("s-1", 1);
          return null;
        });
    List<ScriptedGateway.Received> beats = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ScriptedGateway.Received r = call.next(WAIT);
      assertTrue(r.message().hasHeartbeat(), "expected heartbeat, got " + r.message());
      beats.add(r);
    }
    for (int i = 1; i < beats.size(); i++) {
      long gap = millisBetween(beats.get(i - 1), beats.get(i));
      assertTrue(gap >= 900, "heartbeat gap " + gap + " ms below the 1 s interval");
    }
    // A gateway that answers is alive: one call for the whole time (4 s > 3 intervals).
    assertNull(gateway.pollCall(Duration.ZERO));
  }

  @Test
  void heartbeatsNeverGoFasterThanTheFloor() throws Exception {
    gateway.echoingHeartbeats();
    startSession(settings("sbx-floor"));
    ScriptedGateway.Call call = gateway.nextCall(WAIT);
    call.expectHello(WAIT);
    call.accept("s-floor", 0);

    ScriptedGateway.Received first = call.next(WAIT);
    ScriptedGateway.Received previous = first;
    for (int i = 0; i < 5; i++) {
      ScriptedGateway.Received r = call.next(WAIT);
      assertTrue(r.message().hasHeartbeat());
      long gap = millisBetween(previous, r);
      assertTrue(gap >= 180, "heartbeat gap " + gap + " ms below the 200 ms floor");
      previous = r;
    }
    assertTrue(millisBetween(first, previous) < 4000, "heartbeats at the floor, not at 1 s or more");
  }

  @Test
  void rejectedSessionIsReportedAndRetried() throws Exception {
    startSession(settings("sbx-reject"));
    ScriptedGateway.Call first = gateway.nextCall(WAIT);
    first.expectHello(WAIT);

    ScriptedGateway.Call second =
        LoggingTestKit.error("session rejected: sandbox not found")
            .expect(testKit.system(), () -> {
              first.reject("sandbox not found");
              try {
                return gateway.nextCall(WAIT);
              } catch (InterruptedException e) {
                throw new RuntimeException(e);
              }
            });

    assertEquals("sbx-reject", second.expectHello(WAIT).message().getHello().getSandboxId());
    assertTrue(first.supervisorSideEnded(WAIT), "the rejected call is closed by the supervisor");
  }

  @Test
  void gatewayEndingTheStreamIsACleanEndFollowedByAReconnect() throws Exception {
    startSession(settings("sbx-end"));
    ScriptedGateway.Call first = gateway.nextCall(WAIT);
    ScriptedGateway.Received hello = first.expectHello(WAIT);
    first.accept("s-end", 1);

    LoggingTestKit.info("supervisor session ended cleanly (sbx-end)")
        .expect(testKit.system(), () -> {
          first.complete();
          return null;
        });
    ScriptedGateway.Received again = gateway.nextCall(WAIT).expectHello(WAIT);
    assertTrue(millisBetween(hello, again) >= 100, "reconnect waits the initial backoff");
  }

  @Test
  void reconnectDelaysDoubleWhileRejectedAndResetAfterAnAcceptedSession() throws Exception {
    startSession(settings("sbx-backoff"));
    List<ScriptedGateway.Received> hellos = new ArrayList<>();
    // Four rejections: waits of 100, 200, 400, 800 ms before the next Hello.
    for (int i = 0; i < 4; i++) {
      ScriptedGateway.Call call = gateway.nextCall(WAIT);
      hellos.add(call.expectHello(WAIT));
      call.reject("not yet");
    }
    ScriptedGateway.Call acceptedCall = gateway.nextCall(WAIT);
    hellos.add(acceptedCall.expectHello(WAIT));
    long[] minimum = {100, 200, 400, 800};
    for (int i = 0; i < minimum.length; i++) {
      long gap = millisBetween(hellos.get(i), hellos.get(i + 1));
      assertTrue(gap >= minimum[i], "gap " + i + " was " + gap + " ms, expected >= " + minimum[i]);
    }

    acceptedCall.accept("s-live", 1);
    acceptedCall.next(WAIT); // a heartbeat: the session is live
    long failedAt = System.nanoTime();
    ScriptedGateway.Call afterReset =
        LoggingTestKit.warn("supervisor session failed, reconnecting (attempt 1)")
            .expect(testKit.system(), () -> {
              acceptedCall.fail(new RuntimeException("gateway restarting"));
              try {
                return gateway.nextCall(WAIT);
              } catch (InterruptedException e) {
                throw new RuntimeException(e);
              }
            });
    afterReset.expectHello(WAIT);
    long gap = Duration.ofNanos(System.nanoTime() - failedAt).toMillis();
    // Without the reset the wait would be the 800 ms cap.
    assertTrue(gap < 700, "reconnect after a live session took " + gap + " ms; backoff was not reset");
  }

  @Test
  void silentGatewayIsDeclaredDeadAfterThreeIntervalsAndTheSupervisorReconnects() throws Exception {
    startSession(settings("sbx-silent"));
    ScriptedGateway.Call first = gateway.nextCall(WAIT);
    first.expectHello(WAIT);

    long acceptedAt = System.nanoTime();
    ScriptedGateway.Call second =
        LoggingTestKit.warn("gateway silent for 600 ms (3 heartbeat intervals)")
            .expect(testKit.system(), () -> {
              first.accept("s-silent", 0); // period = 200 ms floor; the gateway then says nothing
              try {
                return gateway.nextCall(WAIT);
              } catch (InterruptedException e) {
                throw new RuntimeException(e);
              }
            });
    long elapsed = Duration.ofNanos(System.nanoTime() - acceptedAt).toMillis();

    assertTrue(elapsed >= 600, "declared dead after " + elapsed + " ms, before 3 intervals");
    assertTrue(first.supervisorSideEnded(WAIT), "the dead call is closed by the supervisor");
    assertTrue(second.expectHello(WAIT).message().hasHello());
  }

  @Test
  void relayOpenToAMissingSshSocketIsAnsweredWithAFailedRelayOpenResult() throws Exception {
    gateway.echoingHeartbeats();
    startSession(settings("sbx-relay"));
    ScriptedGateway.Call call = gateway.nextCall(WAIT);
    call.expectHello(WAIT);
    call.accept("s-relay", 1);

    call.send(GatewayMessage.newBuilder().setRelayOpen(RelayOpen.newBuilder().setChannelId("ch-1")).build());
    ScriptedGateway.Received r = call.next(WAIT);
    while (r.message().hasHeartbeat()) {
      r = call.next(WAIT);
    }
    RelayOpenResult result = r.message().getRelayOpenResult();
    assertEquals("ch-1", result.getChannelId());
    assertFalse(result.getSuccess());
    assertTrue(result.getError().startsWith("cannot connect to the SSH socket "), result.getError());
  }

  @Test
  void gatewayThatComesUpLateIsReachedWithinTheReconnectBackoff() throws Exception {
    gateway.stop(); // the port is known but nobody listens yet
    startSession(settings("sbx-late", "openshell.supervisor.session.reconnect { initial = 200ms, max = 1s }"));
    // The supervisor keeps failing (connection refused) meanwhile. Longer outages (-DlateGatewayOutageMs=30000)
    // show the channel renewal at work: without it grpc-java's own backoff took 13.7 s here.
    Thread.sleep(Long.getLong("lateGatewayOutageMs", 4000));

    long upAt = System.nanoTime();
    gateway = new ScriptedGateway(testKit.system());
    gateway.start(port);
    ScriptedGateway.Call call = gateway.nextCall(WAIT);
    call.expectHello(WAIT);
    long took = Duration.ofNanos(System.nanoTime() - upAt).toMillis();
    assertTrue(took < 5000, "reconnect took " + took + " ms with a 1 s backoff cap");
  }

  @Test
  void mainInitStartsTheSessionAndSystemShutdownClosesIt() throws Exception {
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "supervisor-main", testKit.system().settings().config());
    try {
      Main.init(system, settings("sbx-main"));
      ScriptedGateway.Call call = gateway.nextCall(WAIT);
      assertEquals("sbx-main", call.expectHello(WAIT).message().getHello().getSandboxId());

      system.terminate(); // what SIGTERM does through coordinated shutdown
      system.getWhenTerminated().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
      assertTrue(call.supervisorSideEnded(WAIT), "stopping the supervisor ends its ConnectSupervisor call");
      assertNull(gateway.pollCall(Duration.ofMillis(500)), "no reconnect after shutdown");
    } finally {
      system.terminate();
    }
  }
}
