package io.openshell.it;

import static io.openshell.it.Samples.median;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.tunnel.ConnectClient;
import io.openshell.protocol.v1.*;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The cluster relay figure for docs/benchmarks.md: raw bytes through a {@code /connect/ssh} CONNECT
 * tunnel into a sandbox whose supervisor is connected to node A, with the tunnel on A (same node) and on
 * B (the relay bridged across nodes by StreamRefs over artery), alternating in the same run.
 *
 * <p>Two gateway nodes run in this JVM (the real wiring, one PostgreSQL journal, {@link InJvmGatewayNode});
 * the supervisor is the real supervisor jar in its own JVM dialling A only; its "SSH socket" is a
 * counting sink that acknowledges once it has read every byte. A sample is the time from the tunnel's
 * 200 to that acknowledgement. Random bytes (nothing compresses), warm-up on both paths first, the
 * median of a few samples. Sizes are modest (the machine is shared): {@code -Dbench.cluster-relay.mib=N}
 * (default 128) per sample, twice that per warm-up.
 */
class ClusterRelayBenchmark {
  private static final long SAMPLE = Long.getLong("bench.cluster-relay.mib", 128) << 20;
  private static final int ROUNDS = 3;
  private static final byte[] BLOCK = new byte[1 << 20];

  private static PostgresServer postgres;
  private static InJvmGatewayNode a;
  private static InJvmGatewayNode b;
  private static OpenShellClient client;
  private static Path dir;
  private static CountingSink sink;
  private static Process supervisor;
  private static String sandboxId;
  private static final List<String> results = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    new Random(42).nextBytes(BLOCK);
    postgres = PostgresServer.forSuite("CLUSTER RELAY BENCHMARK");
    String dbUrl = postgres.createDatabase("openshell_bench").url();
    int portA = InJvmGatewayNode.freePort();
    int portB = InJvmGatewayNode.freePort();
    String seeds = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    // The first seed forms the cluster on its own; B joins it (one at a time, as InJvmGatewayNode says).
    a = InJvmGatewayNode.start(dbUrl, portA, seeds, "a", "");
    b = InJvmGatewayNode.start(dbUrl, portB, seeds, "b", "");
    client = OpenShellClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", a.running().port(), a.system())
        .withTls(false), a.system());

    dir = Files.createTempDirectory("cluster-relay-bench");
    sink = new CountingSink(dir.resolve("sink.sock"));
    sandboxId = client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName("bench").build()).toCompletableFuture().get(60, TimeUnit.SECONDS).getSandbox().getId();
    ProcessBuilder builder = new ProcessBuilder(Repo.java(), "-Dopenshell.supervisor.ssh.daemon=off", "-jar",
        Repo.jar("supervisor-actors", "openshell-supervisor").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("supervisor.log").toFile());
    // A only: the session is on A, so a tunnel on B is bridged across nodes.
    builder.environment().put("OPENSHELL_ENDPOINT", "http://127.0.0.1:" + a.running().port());
    builder.environment().put("OPENSHELL_SANDBOX_ID", sandboxId);
    builder.environment().put("OPENSHELL_SSH_SOCKET_PATH", sink.path.toString());
    Path credential = Files.createFile(dir.resolve("credential"), java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
        java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
    Files.writeString(credential, InJvmGatewayNode.credential(sandboxId, a, b));
    builder.environment().put("OPENSHELL_SANDBOX_CREDENTIAL_FILE", credential.toString());
    supervisor = builder.start();
    Awaits.require(Duration.ofSeconds(90), "the supervisor's session on A", () -> {
      try {
        return client.getSandbox(GetSandboxRequest.newBuilder().setName("bench").build()).toCompletableFuture()
            .get(10, TimeUnit.SECONDS).getSandbox().getPhase() == SandboxPhase.SANDBOX_PHASE_READY;
      } catch (Exception e) {
        return false;
      }
    });
  }

  @AfterAll
  static void stop() throws Exception {
    if (supervisor != null) {
      supervisor.destroy();
      supervisor.waitFor(20, TimeUnit.SECONDS);
    }
    if (sink != null) sink.close();
    if (client != null) client.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (b != null) b.close();
    if (a != null) a.close();
    if (postgres != null) postgres.close();
    Path report = Path.of("target", "benchmarks", "cluster-relay.md");
    Files.createDirectories(report.getParent());
    Files.write(report, results);
    results.forEach(System.out::println);
  }

  private static String token() throws Exception {
    return client.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(sandboxId).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getToken();
  }

  /** Seconds from the tunnel's 200 until the sink acknowledged {@code bytes}. */
  private static double throughTunnel(InetSocketAddress tunnel, String token, long bytes) throws Exception {
    try (ConnectClient connect = new ConnectClient(tunnel)) {
      connect.send(ConnectClient.connectHead(sandboxId, token));
      assertEquals(200, connect.status(), connect.responseHead());
      long started = System.nanoTime();
      connect.send(ByteBuffer.allocate(8).putLong(bytes).array());
      for (long sent = 0; sent < bytes; sent += BLOCK.length) connect.send(BLOCK);
      assertArrayEquals(new byte[] {1}, connect.read(1), "the sink acknowledges every byte");
      return (System.nanoTime() - started) / 1e9;
    }
  }

  @Test
  void tunnelThroughputWithTheSupervisorOnAnotherNodeAgainstTheSameNode() throws Exception {
    String token = token();
    InetSocketAddress sameNode = a.running().sshTunnelAddress();
    InetSocketAddress otherNode = b.running().sshTunnelAddress();
    throughTunnel(sameNode, token, 2 * SAMPLE);
    throughTunnel(otherNode, token, 2 * SAMPLE);
    double[] same = new double[ROUNDS];
    double[] cross = new double[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
      same[i] = SAMPLE / 1048576.0 / throughTunnel(sameNode, token, SAMPLE);
      cross[i] = SAMPLE / 1048576.0 / throughTunnel(otherNode, token, SAMPLE);
    }
    double sameMedian = median(same);
    double crossMedian = median(cross);
    results.add(String.format(Locale.ROOT, "| CONNECT tunnel → relay → supervisor → Unix socket, %d MiB per sample, median of %d"
            + " after %d MiB warm-up per path | same node %.0f MiB/s %s | across nodes %.0f MiB/s %s | %.2f× |",
        SAMPLE >> 20, ROUNDS, (2 * SAMPLE) >> 20, sameMedian, samples(same), crossMedian, samples(cross),
        crossMedian / sameMedian));
  }

  private static String samples(double[] values) {
    StringBuilder text = new StringBuilder("(");
    for (int i = 0; i < values.length; i++) text.append(i == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.0f", values[i]));
    return text.append(")").toString();
  }
}
