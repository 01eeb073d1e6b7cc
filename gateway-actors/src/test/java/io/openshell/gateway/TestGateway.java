package io.openshell.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.gateway.persistence.DatabaseUrl;
import io.openshell.gateway.persistence.JournalConfig;
import io.openshell.gateway.persistence.JournalSchema;
import io.openshell.protocol.compute.v1.ComputeDriver;
import io.openshell.protocol.v1.OpenShellClient;
import java.nio.file.Path;
import java.time.Duration;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;

/** The real gateway wiring on a free loopback port, plus a gRPC client to it. */
public final class TestGateway implements AutoCloseable {
  public final ActorSystem<Void> system;
  public final Gateway.Running running;
  public final OpenShellClient client;
  private final JournalSchema schema;
  private final ComputeDriver driver;

  private TestGateway(ActorSystem<Void> system, Gateway.Running running, OpenShellClient client, JournalSchema schema,
      ComputeDriver driver) {
    this.driver = driver;
    this.system = system;
    this.running = running;
    this.client = client;
    this.schema = schema;
  }

  public static TestGateway start(String dbUrl, Path stateDir, ComputeDriver driver, String extraConfig) throws Exception {
    Config overrides = ConfigFactory.parseString(extraConfig)
        // Plaintext unless a test asks for TLS (openshell.gateway.disable-tls = false).
        .withFallback(ConfigFactory.parseString("openshell.gateway.port = 0\nopenshell.gateway.disable-tls = true\n"
            + "openshell.gateway.db-url = \"" + dbUrl + "\"\n"
            + "openshell.gateway.state-dir = \"" + stateDir + "\""));
    Config base = overrides.withFallback(ConfigFactory.load());
    GatewaySettings settings = GatewaySettings.fromConfig(base);
    DatabaseUrl db = DatabaseUrl.parse(settings.dbUrl(), settings.stateDir());
    JournalSchema schema = JournalSchema.apply(db);
    Config config = overrides.withFallback(JournalConfig.forDatabase(db)).withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), "gateway-test", config);
    Gateway.Running running = Gateway.init(system, settings, schema, (s, endpoint) -> driver)
        .toCompletableFuture().get(60, java.util.concurrent.TimeUnit.SECONDS);
    OpenShellClient client = OpenShellClient.create(
        GrpcClientSettings.connectToServiceAt("127.0.0.1", running.port(), system).withTls(false), system);
    return new TestGateway(system, running, client, schema, driver);
  }

  @Override
  public void close() throws Exception {
    client.close().toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS);
    system.terminate();
    system.getWhenTerminated().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    schema.close();
  }

  /** Waits (up to 20 s) until the named sandbox is READY. */
  public void awaitReady(String name) {
    org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(system).awaitAssert(Duration.ofSeconds(20), () -> {
      io.openshell.protocol.v1.SandboxPhase phase = client.getSandbox(io.openshell.protocol.v1.GetSandboxRequest.newBuilder()
          .setName(name).build()).toCompletableFuture().get(10, java.util.concurrent.TimeUnit.SECONDS).getSandbox().getPhase();
      if (phase != io.openshell.protocol.v1.SandboxPhase.SANDBOX_PHASE_READY) throw new AssertionError(name + " is " + phase);
      return null;
    });
  }

  /**
   * The supervisor credential this gateway's (accepting) driver was given for {@code sandboxId}; waits
   * (up to 20 s) for it, since after a restart the driver hears of a sandbox only when it is reconciled.
   */
  public String credential(String sandboxId) {
    if (!(driver instanceof AcceptingDriver accepting)) {
      throw new IllegalStateException("only an AcceptingDriver records credentials; this gateway runs " + driver);
    }
    return org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(system)
        .awaitAssert(patience(), () -> accepting.credential(sandboxId));
  }

  public static Duration patience() {
    return Duration.ofSeconds(20);
  }
}
