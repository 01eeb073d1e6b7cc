package io.openshell.supervisor.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.RelayFrame;
import io.openshell.protocol.v1.RelayOpen;
import io.openshell.supervisor.SupervisorSettings;
import io.openshell.supervisor.relay.RelayBridge;
import io.openshell.supervisor.relay.SpareRelayStream;
import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.LogCapturingExtension;
import org.apache.pekko.actor.testkit.typed.javadsl.LoggingTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.stream.Materializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The spare RelayStream call: the real GatewaySession, RelayBridge and netty client against a scripted
 * pekko-grpc gateway that records every RelayStream call, with a test daemon on the SSH socket.
 */
@ExtendWith(LogCapturingExtension.class)
class SpareRelayStreamTest {

  private static final Duration WAIT = Duration.ofSeconds(15);
  /** How long "nothing more happens" is watched for. */
  private static final Duration QUIET = Duration.ofMillis(500);

  private static final ActorTestKit testKit =
      ActorTestKit.create(
          ConfigFactory.parseString(
                  "pekko.http.server.enable-http2 = on\n"
                      + "pekko.actor.testkit.typed.filter-leeway = 15s\n")
              .withFallback(ConfigFactory.load()));

  private ScriptedGateway gateway;
  private int port;
  private Daemon daemon;
  private ActorRef<GatewaySession.Command> session;

  @BeforeEach
  void start() throws Exception {
    gateway = new ScriptedGateway(testKit.system()).echoingHeartbeats();
    port = gateway.start();
    daemon = new Daemon(Files.createTempDirectory("spare-relay").resolve("ssh.sock"));
  }

  @AfterEach
  void stop() throws Exception {
    if (session != null) testKit.stop(session, WAIT);
    daemon.close();
    gateway.stop();
  }

  @AfterAll
  static void shutdown() {
    testKit.shutdownTestKit();
  }

  /** The spare on, reconnect (and spare replacement) backoff 100 ms doubling to 800 ms without jitter, unless {@code extra} says otherwise. */
  private SupervisorSettings settings(String extra) {
    return SupervisorSettings.fromConfig(
        ConfigFactory.parseString(
                "openshell.supervisor {\n"
                    + "  endpoint = \"http://127.0.0.1:" + port + "\"\n"
                    + "  sandbox-id = \"sbx-spare\"\n"
                    + "  ssh-socket-path = \"" + daemon.path + "\"\n"
                    + "  session.reconnect { initial = 100ms, max = 800ms, jitter = 0 }\n"
                    // Off by default (no faster open measured); this suite is about the spare.
                    + "  relay.spare-stream = on\n"
                    + "}\n"
                    + extra)
            .withFallback(ConfigFactory.load()));
  }

  /** Starts the session and accepts it; returns the control call. */
  private ScriptedGateway.Call liveSession(SupervisorSettings settings) throws Exception {
    session = testKit.spawn(GatewaySession.create(settings));
    ScriptedGateway.Call call = gateway.nextCall(WAIT);
    call.expectHello(WAIT);
    call.accept("s-spare", 15);
    return call;
  }

  private static void relayOpen(ScriptedGateway.Call call, String channelId) {
    call.send(GatewayMessage.newBuilder().setRelayOpen(RelayOpen.newBuilder().setChannelId(channelId)).build());
  }

  private static void assertInit(String channelId, RelayFrame frame) {
    assertTrue(frame.hasInit(), "expected Init first, got " + frame);
    assertEquals(channelId, frame.getInit().getChannelId());
  }

  private static String data(RelayFrame frame) {
    assertTrue(frame.hasData(), "expected data, got " + frame);
    return frame.getData().toStringUtf8();
  }

  @Test
  void theFirstRelaySendsItsInitOnTheSpareOpenedWhenTheSessionWentLiveAndBridgesOnIt() throws Exception {
    ScriptedGateway.Call control = liveSession(settings(""));
    ScriptedGateway.RelayCall spare = gateway.nextRelayCall(WAIT);
    assertNull(spare.poll(QUIET), "a spare sends nothing before its relay exists");

    relayOpen(control, "ch-1");
    assertInit("ch-1", spare.next(WAIT));
    SocketChannel socket = daemon.nextConnection(WAIT);
    Daemon.write(socket, "from the daemon");
    assertEquals("from the daemon", data(spare.next(WAIT)));
    spare.sendData("to the daemon");
    assertEquals("to the daemon", Daemon.read(socket, "to the daemon".length(), WAIT));

    ScriptedGateway.RelayCall next = gateway.nextRelayCall(WAIT);
    assertNull(next.poll(QUIET), "the session opened the next spare, and it waits");
    assertNull(gateway.pollRelayCall(QUIET), "one spare at a time, and the relay started no call of its own");
  }

  @Test
  void eachSpareCarriesOneRelayAndTheNextRelayTakesTheNextSpare() throws Exception {
    ScriptedGateway.Call control = liveSession(settings(""));
    ScriptedGateway.RelayCall first = gateway.nextRelayCall(WAIT);
    relayOpen(control, "ch-1");
    assertInit("ch-1", first.next(WAIT));
    SocketChannel one = daemon.nextConnection(WAIT);

    ScriptedGateway.RelayCall second = gateway.nextRelayCall(WAIT);
    relayOpen(control, "ch-2");
    assertInit("ch-2", second.next(WAIT));
    SocketChannel two = daemon.nextConnection(WAIT);

    Daemon.write(two, "two");
    Daemon.write(one, "one");
    assertEquals("one", data(first.next(WAIT)));
    assertEquals("two", data(second.next(WAIT)));
    first.sendData("1");
    second.sendData("2");
    assertEquals("1", Daemon.read(one, 1, WAIT));
    assertEquals("2", Daemon.read(two, 1, WAIT));
    assertNull(first.poll(QUIET), "nothing of the second relay on the first spare");
    assertNull(second.poll(Duration.ZERO), "nothing of the first relay on the second spare");

    // The gateway ending the first relay ends it alone.
    first.complete();
    assertTrue(first.supervisorSideEnded(WAIT), "the first relay's call ended");
    assertTrue(Daemon.endOfStream(one, WAIT), "the first relay's socket was closed");
    second.sendData("still here");
    assertEquals("still here", Daemon.read(two, "still here".length(), WAIT));
  }

  @Test
  void withTheSpareSwitchedOffEachRelayStartsItsOwnCallWithInitFirst() throws Exception {
    ScriptedGateway.Call control = liveSession(settings("openshell.supervisor.relay.spare-stream = off"));
    assertNull(gateway.pollRelayCall(QUIET), "no spare");

    relayOpen(control, "ch-off");
    ScriptedGateway.RelayCall call = gateway.nextRelayCall(WAIT);
    assertInit("ch-off", call.next(WAIT));
    assertNull(gateway.pollRelayCall(QUIET), "and no spare after it either");
  }

  @Test
  void aSpareThatKeepsFailingIsReplacedAfterAGrowingBackoffNotInALoop() throws Exception {
    gateway.refusingRelayStreams(true);
    liveSession(settings(""));
    List<Long> arrivals = new ArrayList<>();
    long until = System.nanoTime() + Duration.ofMillis(2500).toNanos();
    ScriptedGateway.RelayCall call;
    while ((call = gateway.pollRelayCall(Duration.ofNanos(Math.max(0, until - System.nanoTime())))) != null) {
      arrivals.add(call.atNanos);
    }
    // Spares at about 0, 0 (the first loss is replaced at once), then +100, +200, +400, +800, +800 ms:
    // six or seven in 2.5 s (a loop would make thousands).
    assertTrue(arrivals.size() >= 4 && arrivals.size() <= 7, arrivals.size() + " spares in 2.5 s");
    for (int k = 2; k < arrivals.size(); k++) {
      long backoff = Math.min(800, 100L << (k - 2));
      long gap = Duration.ofNanos(arrivals.get(k) - arrivals.get(k - 1)).toMillis();
      assertTrue(gap >= backoff * 9 / 10, "spare " + (k + 1) + " came " + gap + " ms after the one before, expected >= " + backoff);
    }
  }

  @Test
  void aRelayThatComesWhileTheSpareWaitsOutItsBackoffStartsAFreshCall() throws Exception {
    gateway.refusingRelayStreams(true);
    SupervisorSettings settings = settings("openshell.supervisor.session.reconnect { initial = 10s, max = 10s }");
    // The first lost spare is replaced at once; after the second the session waits 10 s.
    ScriptedGateway.Call control = LoggingTestKit.warn("2 in a row; the next in 10000 ms").expect(testKit.system(), () -> {
      try {
        return liveSession(settings);
      } catch (Exception e) {
        throw new IllegalStateException(e);
      }
    });
    gateway.nextRelayCall(WAIT);
    gateway.nextRelayCall(WAIT);
    gateway.refusingRelayStreams(false);

    relayOpen(control, "ch-fresh");
    ScriptedGateway.RelayCall fresh = gateway.nextRelayCall(WAIT);
    assertInit("ch-fresh", fresh.next(WAIT));
    fresh.sendData("fresh");
    assertEquals("fresh", Daemon.read(daemon.nextConnection(WAIT), "fresh".length(), WAIT));
  }

  @Test
  void theSpareIsCancelledWhenTheGatewayEndsTheSessionAndTheNextSessionOpensItsOwn() throws Exception {
    ScriptedGateway.Call control = liveSession(settings(""));
    ScriptedGateway.RelayCall spare = gateway.nextRelayCall(WAIT);

    control.complete(); // what a supersede looks like from the supervisor
    assertTrue(spare.supervisorSideEnded(WAIT), "the old session's spare was cancelled");

    ScriptedGateway.Call again = gateway.nextCall(WAIT);
    again.expectHello(WAIT);
    assertNull(gateway.pollRelayCall(QUIET), "no spare before the new session is accepted");
    again.accept("s-again", 15);
    ScriptedGateway.RelayCall next = gateway.nextRelayCall(WAIT);
    relayOpen(again, "ch-again");
    assertInit("ch-again", next.next(WAIT));
  }

  @Test
  void stoppingTheSupervisorCancelsItsSpare() throws Exception {
    liveSession(settings(""));
    ScriptedGateway.RelayCall spare = gateway.nextRelayCall(WAIT);

    testKit.stop(session, WAIT);
    session = null;
    assertTrue(spare.supervisorSideEnded(WAIT), "the spare was cancelled with its session");
  }

  @Test
  void aBridgeHandedASpareThatHasEndedStartsAFreshCall() throws Exception {
    String channelId = "ch-late";
    SupervisorSettings settings = settings("");
    OpenShellClient client = OpenShellClient.create(GatewaySession.grpcClientSettings(settings.endpoint(), settings, testKit.system()), testKit.system());
    try {
      gateway.refusingRelayStreams(true);
      SpareRelayStream spare = SpareRelayStream.start(1, client, Materializer.matFromSystem(testKit.system()));
      gateway.nextRelayCall(WAIT);
      spare.ended().toCompletableFuture().handle((done, failure) -> done).get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
      gateway.refusingRelayStreams(false);

      TestProbe<RelayBridge.Report> reports = testKit.createTestProbe();
      testKit.spawn(RelayBridge.create(client, Optional.of(spare), channelId, daemon.path, 16 * 1024, 256 * 1024, reports.getRef()));
      ScriptedGateway.RelayCall fresh = gateway.nextRelayCall(WAIT);
      assertInit(channelId, fresh.next(WAIT));
      SocketChannel socket = daemon.nextConnection(WAIT);
      Daemon.write(socket, "up");
      assertEquals("up", data(fresh.next(WAIT)));
      fresh.sendData("down");
      assertEquals("down", Daemon.read(socket, 4, WAIT));
      fresh.complete();
      reports.expectMessage(WAIT, new RelayBridge.Ended(channelId));
      reports.expectNoMessage(QUIET);
    } finally {
      client.close();
    }
  }

  /** Where the SSH daemon would be: hands each accepted connection to the test. */
  private static final class Daemon implements AutoCloseable {
    final Path path;
    private final ServerSocketChannel server;
    private final BlockingQueue<SocketChannel> accepted = new LinkedBlockingQueue<>();
    private final java.util.Queue<SocketChannel> all = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Thread acceptor;

    Daemon(Path path) throws IOException {
      this.path = path;
      server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      server.bind(UnixDomainSocketAddress.of(path));
      acceptor = new Thread(() -> {
        try {
          while (true) {
            SocketChannel socket = server.accept();
            all.add(socket);
            accepted.add(socket);
          }
        } catch (IOException closed) {
          // the test is over
        }
      }, "test-daemon-accept");
      acceptor.setDaemon(true);
      acceptor.start();
    }

    SocketChannel nextConnection(Duration within) throws InterruptedException {
      SocketChannel socket = accepted.poll(within.toMillis(), TimeUnit.MILLISECONDS);
      if (socket == null) throw new AssertionError("no relay connected to the daemon within " + within);
      return socket;
    }

    static void write(SocketChannel socket, String text) throws IOException {
      ByteBuffer bytes = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
      while (bytes.hasRemaining()) socket.write(bytes);
    }

    /** Exactly {@code length} bytes, read off the test thread so a missing byte fails within the wait. */
    static String read(SocketChannel socket, int length, Duration within) throws Exception {
      return CompletableFuture.supplyAsync(() -> {
        ByteBuffer buffer = ByteBuffer.allocate(length);
        try {
          while (buffer.hasRemaining()) {
            if (socket.read(buffer) < 0) throw new IOException("end of stream after " + buffer.position() + " bytes");
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
        return new String(buffer.array(), StandardCharsets.UTF_8);
      }).get(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    static boolean endOfStream(SocketChannel socket, Duration within) throws Exception {
      return CompletableFuture.supplyAsync(() -> {
        try {
          return socket.read(ByteBuffer.allocate(1)) < 0;
        } catch (IOException e) {
          return true;
        }
      }).get(within.toMillis(), TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws IOException {
      server.close();
      for (SocketChannel socket : all) socket.close();
      Files.deleteIfExists(path);
    }
  }
}
