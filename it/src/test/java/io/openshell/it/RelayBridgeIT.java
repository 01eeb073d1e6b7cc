package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The relay plane end to end inside one JVM: the real gateway wiring on a free port, the real
 * supervisor-side RelayBridge, and an echo peer on a Unix socket where the SSH daemon would be.
 */
class RelayBridgeIT {
  private static final int FRAME = 16 * 1024;
  private static TestGateway gateway;
  private static UnixEchoServer echo;
  private static Path dir;

  @BeforeAll
  static void start() throws Exception {
    dir = Files.createTempDirectory("relay-bridge-it");
    gateway = TestGateway.start("sqlite::memory:", dir, new AcceptingDriver(),
        // The bridges run in this JVM too: give their blocking socket I/O room for 1,000 relays, and
        // the supervisor's one connection room for 1,000 concurrent streams.
        "pekko.actor.default-blocking-io-dispatcher.thread-pool-executor.fixed-pool-size = 2100\n"
            + "pekko.http.server.http2.max-concurrent-streams = 1100");
    echo = new UnixEchoServer(dir.resolve("ssh.sock"));
  }

  @AfterAll
  static void stop() throws Exception {
    echo.close();
    gateway.close();
  }

  private static String readySandbox(String name, Path socket) throws Exception {
    String id = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
    new BridgingSupervisor(gateway.running.port(), gateway.system, id, gateway.credential(id), socket, FRAME);
    gateway.awaitReady(name);
    return id;
  }

  private static CompletionStage<RelayConnection> open(String id) {
    return gateway.running.relays().open(id, Duration.ofSeconds(30)).connection();
  }

  /** Sends the payload, reads back exactly as many bytes, then closes the relay; returns the echo's sha256. */
  private static CompletionStage<String> echoDigest(RelayConnection relay, Source<ByteString, ?> payload, long size) {
    var writer = payload.concat(Source.never()).viaMat(org.apache.pekko.stream.KillSwitches.single(), org.apache.pekko.stream.javadsl.Keep.right())
        .to(relay.toSupervisor().getSink()).run(gateway.system);
    MessageDigest digest = sha256();
    long[] received = {0};
    return relay.fromSupervisor().getSource()
        .map(bytes -> {
          digest.update(bytes.toArrayUnsafe());
          received[0] += bytes.size();
          return received[0];
        })
        .takeWhile(count -> count < size, true)
        .runWith(Sink.ignore(), gateway.system)
        .thenApply(done -> {
          writer.shutdown();
          assertEquals(size, received[0], "echoed byte count");
          return HexFormat.of().formatHex(digest.digest());
        });
  }

  private static byte[] random(int size, long seed) {
    byte[] bytes = new byte[size];
    new Random(seed).nextBytes(bytes);
    return bytes;
  }

  private static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  @Test
  void bytesRoundTripThroughTheRealBridgeToAUnixSocket() throws Exception {
    String id = readySandbox("bridge-echo", echo.path);
    byte[] payload = random(1 << 20, 7);
    RelayConnection relay = open(id).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(sha256Hex(payload), echoDigest(relay, Source.single(ByteString.fromArray(payload)), payload.length)
        .toCompletableFuture().get(60, TimeUnit.SECONDS));
  }

  @Test
  void aMissingSshSocketFailsTheWaitingClientAtOnce() throws Exception {
    Path missing = dir.resolve("absent.sock");
    String id = readySandbox("bridge-nosocket", missing);
    long started = System.nanoTime();
    ExecutionException e = assertThrows(ExecutionException.class, () -> open(id).toCompletableFuture().get(30, TimeUnit.SECONDS));
    SandboxProblem problem = (SandboxProblem) e.getCause();
    assertEquals(Status.Code.UNAVAILABLE, problem.code());
    assertTrue(problem.getMessage().startsWith("supervisor relay failed: cannot connect to the SSH socket " + missing), problem.getMessage());
    assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos());
  }

  @Test
  void aThousandConcurrentRelaysOnOneSessionEachEcho64KiBIntact() throws Exception {
    String id = readySandbox("bridge-thousand", echo.path);
    int relays = 1000;
    int size = 64 * 1024;
    // Opens go 16 at a time (the per-sandbox cap counts relays not yet claimed); all 1,000 stay bridged.
    long started = System.nanoTime();
    List<RelayConnection> connections = Source.range(1, relays)
        .mapAsync(16, i -> open(id))
        .runWith(Sink.seq(), gateway.system).toCompletableFuture().get(300, TimeUnit.SECONDS);
    double openSeconds = (System.nanoTime() - started) / 1e9;
    assertEquals(relays, connections.size());
    List<CompletableFuture<Boolean>> checks = new ArrayList<>();
    for (int i = 0; i < relays; i++) {
      byte[] payload = random(size, i);
      String expected = sha256Hex(payload);
      checks.add(echoDigest(connections.get(i), Source.single(ByteString.fromArray(payload)), size)
          .thenApply(expected::equals).toCompletableFuture());
    }
    int intact = 0;
    for (var check : checks) if (check.get(300, TimeUnit.SECONDS)) intact++;
    double echoSeconds = (System.nanoTime() - started) / 1e9 - openSeconds;
    BenchmarkRow.record("13-relay-concurrent", "concurrent relays on one supervisor session (in-JVM gateway and RelayBridge, Unix echo peer), each echoing 64 KiB",
        "≥ 1,000 with bytes intact", String.format(java.util.Locale.ROOT, "%,d of %,d intact (sha256); opened in %.1f s, all echoed %.1f s later",
            intact, relays, openSeconds, echoSeconds), "", BenchmarkRow.Verdict.of(intact == relays && relays >= 1000));
    assertEquals(relays, intact);
  }

  @Test
  void twoHundredFiftySixMiBThroughOneRelayKeepTheirSha256() throws Exception {
    String id = readySandbox("bridge-bulk", echo.path);
    long size = 256L * 1024 * 1024;
    int chunk = 64 * 1024;
    Random random = new Random(256);
    MessageDigest sent = sha256();
    Source<ByteString, ?> payload = Source.range(1, (int) (size / chunk)).map(i -> {
      byte[] bytes = new byte[chunk];
      random.nextBytes(bytes);
      sent.update(bytes);
      return ByteString.fromArrayUnsafe(bytes);
    });
    RelayConnection relay = open(id).toCompletableFuture().get(30, TimeUnit.SECONDS);
    long started = System.nanoTime();
    String echoed = echoDigest(relay, payload, size).toCompletableFuture().get(600, TimeUnit.SECONDS);
    double seconds = (System.nanoTime() - started) / 1e9;
    System.out.printf("256 MiB echoed through one relay in %.1f s (%.0f MiB/s each way)%n", seconds, 256 / seconds);
    assertEquals(HexFormat.of().formatHex(sent.digest()), echoed);
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
