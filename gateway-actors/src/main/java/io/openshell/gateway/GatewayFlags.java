package io.openshell.gateway;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The gateway's command line (flag names from the upstream gateway). A flag that is given overrides
 * the setting; one that is not leaves the config (and its env variable) in charge.
 */
@Command(name = "openshell-gateway", mixinStandardHelpOptions = true,
    description = "Runs the OpenShell gateway: gRPC API, supervisor sessions and the compute driver.")
public final class GatewayFlags {

  @Option(names = "--host", description = "Address to listen on (default 127.0.0.1).")
  String host;

  @Option(names = "--port", description = "Main port for gRPC and HTTP (default 8080; 0 picks a free port). Env OPENSHELL_SERVER_PORT.")
  Integer port;

  @Option(names = "--health-port", description = "Extra port serving only /healthz and /readyz (0 = off). Env OPENSHELL_HEALTH_PORT.")
  Integer healthPort;

  @Option(names = "--db-url", description = "sqlite:<path>, sqlite::memory: or postgresql://… Env OPENSHELL_DB_URL.")
  String dbUrl;

  @Option(names = "--state-dir", description = "Gateway state directory (default ${XDG_STATE_HOME:-~/.local/state}/openshell/gateway).")
  String stateDir;

  @Option(names = "--drivers", description = "Compute driver: process or vm. Env OPENSHELL_DRIVERS.")
  String drivers;

  @Option(names = "--grpc-endpoint", description = "URL sandboxes dial to reach this gateway. Env OPENSHELL_GRPC_ENDPOINT.")
  String grpcEndpoint;

  @Option(names = "--supervisor-jar", description = "The supervisor jar the process driver runs in each sandbox. Env OPENSHELL_SUPERVISOR_JAR.")
  String supervisorJar;

  @Option(names = "--vm-vcpus", description = "vCPUs per sandbox VM (vm driver, default 2). Env OPENSHELL_VM_VCPUS.")
  Integer vmVcpus;

  @Option(names = "--vm-mem-mib", description = "Memory per sandbox VM in MiB (vm driver, default 2048). Env OPENSHELL_VM_MEM_MIB.")
  Integer vmMemMib;

  @Option(names = "--vm-driver-state-dir", description = "VM driver state (default <state-dir>/vm-driver). Env OPENSHELL_VM_DRIVER_STATE_DIR.")
  String vmDriverStateDir;

  @Option(names = "--ssh-gateway-host", description = "Address of the SSH tunnel (CONNECT) listener, returned by CreateSshSession (default 127.0.0.1).")
  String sshGatewayHost;

  @Option(names = "--ssh-gateway-port", description = "Port of the SSH tunnel listener; 0 (default) picks a free port and CreateSshSession returns it.")
  Integer sshGatewayPort;

  @Option(names = "--ssh-connect-path", description = "Path of the SSH tunnel, on the tunnel port (CONNECT) and the main port (WebSocket) (default /connect/ssh).")
  String sshConnectPath;

  @Option(names = "--cluster-seed", description = "host:port[,host:port…] of seed nodes' cluster ports: join a cluster (needs a postgresql --db-url). Env OPENSHELL_CLUSTER_SEEDS.")
  String clusterSeeds;

  @Option(names = "--cluster-port", description = "This node's cluster (artery) port; a seed node needs a fixed one (default 0 = any free port). Env OPENSHELL_CLUSTER_PORT.")
  Integer clusterPort;

  @Option(names = "--cluster-host", description = "Address of this node's cluster port, as the other nodes reach it (default 127.0.0.1). Env OPENSHELL_CLUSTER_HOST.")
  String clusterHost;

  @Option(names = "--disable-tls", description = "Serve plaintext on both ports (development only).")
  boolean disableTls;

  @Option(names = "--disable-gateway-auth", description = "Do not require a user client certificate for API calls.")
  boolean disableGatewayAuth;

  @Option(names = "--tls-cert", description = "Server certificate chain (PEM). Without --tls-cert/--tls-key/--tls-client-ca the gateway uses its own local CA in <state-dir>/tls.")
  String tlsCert;

  @Option(names = "--tls-key", description = "Server private key (PEM, unencrypted).")
  String tlsKey;

  @Option(names = "--tls-client-ca", description = "CA(s) that sign user client certificates (PEM); needed unless --disable-gateway-auth.")
  String tlsClientCa;

  @Option(names = "--tls-sandbox-ca", description = "CA(s) sandboxes trust to verify this gateway (PEM; default --tls-client-ca, else the server chain).")
  String tlsSandboxCa;

  Config toConfig() {
    Config config = ConfigFactory.empty();
    config = set(config, "host", host);
    config = set(config, "port", port);
    config = set(config, "health-port", healthPort);
    config = set(config, "db-url", dbUrl);
    config = set(config, "state-dir", stateDir);
    config = set(config, "drivers", drivers);
    config = set(config, "grpc-endpoint", grpcEndpoint);
    config = set(config, "process-driver.supervisor-jar", supervisorJar);
    config = set(config, "vm-driver.vcpus", vmVcpus);
    config = set(config, "vm-driver.mem-mib", vmMemMib);
    config = set(config, "vm-driver.state-dir", vmDriverStateDir);
    config = set(config, "ssh-tunnel.host", sshGatewayHost);
    config = set(config, "ssh-tunnel.port", sshGatewayPort);
    config = set(config, "ssh-tunnel.connect-path", sshConnectPath);
    config = set(config, "cluster.seeds", clusterSeeds);
    config = set(config, "cluster.port", clusterPort);
    config = set(config, "cluster.host", clusterHost);
    config = set(config, "tls.cert", tlsCert);
    config = set(config, "tls.key", tlsKey);
    config = set(config, "tls.client-ca", tlsClientCa);
    config = set(config, "tls.sandbox-ca", tlsSandboxCa);
    if (disableTls) config = set(config, "disable-tls", true);
    if (disableGatewayAuth) config = set(config, "disable-gateway-auth", true);
    return config;
  }

  private static Config set(Config config, String key, Object value) {
    return value == null ? config : config.withValue("openshell.gateway." + key, ConfigValueFactory.fromAnyRef(value));
  }
}
