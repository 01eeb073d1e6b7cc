package io.openshell.client.gateway;

import io.openshell.client.connection.CliException;
import io.openshell.client.connection.Environment;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code openshell gateway start|stop|status}: the local gateway. */
@Command(name = "gateway", description = "Run a local gateway.",
    subcommands = {GatewayCommand.Start.class, GatewayCommand.Stop.class, GatewayCommand.Status.class})
public final class GatewayCommand implements Runnable {
  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  @Command(name = "start", description = "Start a gateway in the background (or in this terminal with --foreground).")
  static final class Start implements Callable<Integer> {
    private final Environment environment;

    @Option(names = "--port", defaultValue = "8080", description = "Main port (0 picks a free one). Default ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--db-url", description = "sqlite:<path>, sqlite::memory: or postgresql://…")
    String dbUrl;

    @Option(names = "--drivers", defaultValue = "process", description = "Compute drivers. Default ${DEFAULT-VALUE}.")
    String drivers;

    @Option(names = "--cluster-seed", description = "host:port[,host:port…] of seed nodes' cluster ports: join a cluster (needs a postgresql --db-url).")
    String clusterSeeds;

    @Option(names = "--cluster-port", description = "This node's cluster port (a seed node needs a fixed one).")
    Integer clusterPort;

    @Option(names = "--grpc-endpoint", description = "URL(s) sandboxes dial, comma-separated in the order they are tried (default: this gateway).")
    String grpcEndpoint;

    @Option(names = "--vm-vcpus", description = "vCPUs per sandbox VM (--drivers vm; default 2).")
    Integer vmVcpus;

    @Option(names = "--vm-mem-mib", description = "Memory per sandbox VM in MiB (--drivers vm; default 2048).")
    Integer vmMemMib;

    @Option(names = "--vm-driver-state-dir", description = "VM driver state directory (--drivers vm; default <gateway state>/vm-driver).")
    String vmDriverStateDir;

    @Option(names = "--disable-tls", description = "Plaintext instead of TLS with the gateway's own CA (development only).")
    boolean disableTls;

    @Option(names = "--tls-cert", description = "Server certificate chain (PEM) instead of the gateway's own CA; every node of a cluster gets the same files.")
    String tlsCert;

    @Option(names = "--tls-key", description = "Server private key (PEM), with --tls-cert.")
    String tlsKey;

    @Option(names = "--tls-client-ca", description = "CA (PEM) that signs user certificates (OU=openshell-user), with --tls-cert.")
    String tlsClientCa;

    @Option(names = "--disable-gateway-auth", description = "TLS, but API calls need no user certificate.")
    boolean disableGatewayAuth;

    @Option(names = "--foreground", description = "Run in this terminal until interrupted.")
    boolean foreground;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Start(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      LocalGateway local = new LocalGateway(environment);
      List<String> args = new ArrayList<>(List.of("--port", Integer.toString(port), "--drivers", drivers));
      if (disableTls) args.add("--disable-tls");
      if (disableGatewayAuth) args.add("--disable-gateway-auth");
      if (tlsCert != null) args.addAll(List.of("--tls-cert", absolute(tlsCert)));
      if (tlsKey != null) args.addAll(List.of("--tls-key", absolute(tlsKey)));
      if (tlsClientCa != null) args.addAll(List.of("--tls-client-ca", absolute(tlsClientCa)));
      if (dbUrl != null) args.addAll(List.of("--db-url", dbUrl));
      if (clusterSeeds != null) args.addAll(List.of("--cluster-seed", clusterSeeds));
      if (clusterPort != null) args.addAll(List.of("--cluster-port", Integer.toString(clusterPort)));
      if (grpcEndpoint != null) args.addAll(List.of("--grpc-endpoint", grpcEndpoint));
      if (vmVcpus != null) args.addAll(List.of("--vm-vcpus", vmVcpus.toString()));
      if (vmMemMib != null) args.addAll(List.of("--vm-mem-mib", vmMemMib.toString()));
      if (vmDriverStateDir != null) args.addAll(List.of("--vm-driver-state-dir", vmDriverStateDir));
      if (foreground) return local.runForeground(args);
      if (local.running().isPresent()) {
        throw new CliException("a local gateway already runs at " + local.running().get() + " (pid " + local.pid().orElse(-1L)
            + "); stop it with 'openshell gateway stop'");
      }
      String endpoint = local.start(args);
      var out = spec.commandLine().getOut();
      out.println("Gateway started: " + endpoint + " (pid " + local.pid().orElse(-1L) + ", log " + local.log() + ")");
      out.flush();
      return 0;
    }
  }

  private static String absolute(String file) {
    return java.nio.file.Path.of(file).toAbsolutePath().toString();
  }

  @Command(name = "stop", description = "Stop the local gateway (and the sandboxes' supervisors with it).")
  static final class Stop implements Callable<Integer> {
    private final Environment environment;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Stop(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      LocalGateway local = new LocalGateway(environment);
      var out = spec.commandLine().getOut();
      out.println(local.stop() ? "Gateway stopped" : "No local gateway is running");
      out.flush();
      return 0;
    }
  }

  @Command(name = "status", description = "Is the local gateway running?")
  static final class Status implements Callable<Integer> {
    private final Environment environment;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    Status(Environment environment) {
      this.environment = environment;
    }

    @Override
    public Integer call() {
      LocalGateway local = new LocalGateway(environment);
      var out = spec.commandLine().getOut();
      var running = local.running();
      if (running.isPresent()) {
        out.println("Gateway running: " + running.get() + " (pid " + local.pid().orElse(-1L) + ", state " + local.stateDir() + ")");
      } else {
        out.println("No local gateway is running (state " + local.stateDir() + ")");
      }
      out.flush();
      return running.isPresent() ? 0 : 3;
    }
  }
}
