package io.openshell.client.connection;

import io.openshell.client.gateway.LocalGateway;
import java.io.PrintWriter;
import java.util.List;
import java.util.Optional;

/**
 * Which gateway a command talks to: {@code --gateway-endpoint}, else {@code OPENSHELL_GATEWAY_ENDPOINT},
 * else the local gateway this CLI started (started now, in the background, if none runs).
 *
 * <p>A choice also has a name that a later process can resolve on its own (ssh runs {@code ssh-proxy
 * --gateway-name G} long after this command ended, maybe in another environment): {@value #LOCAL} for the
 * local gateway, whose endpoint changes with every start, and the endpoint URL itself otherwise.
 */
public final class GatewaySelection {
  public static final String LOCAL = "local";

  private GatewaySelection() {}

  public enum Source { FLAG, ENVIRONMENT, LOCAL_RUNNING, LOCAL_NEW }

  public record Choice(String endpoint, Source source) {
    public String name() {
      return source == Source.LOCAL_RUNNING || source == Source.LOCAL_NEW ? LOCAL : endpoint;
    }
  }

  /** The endpoint a gateway name stands for now, without starting anything. */
  public static String endpointNamed(String name, LocalGateway local) {
    if (LOCAL.equals(name)) {
      return local.running().orElseThrow(() -> new CliException(
          "the local gateway is not running (start it with 'openshell gateway start')"));
    }
    if (name.startsWith("http://") || name.startsWith("https://")) return name;
    throw new CliException("unknown gateway name '" + name + "': use '" + LOCAL + "' or a gateway URL (https://host:port)");
  }

  /** Without starting anything: empty when only a new local gateway would do. */
  public static Optional<Choice> existing(String flag, Environment environment, LocalGateway local) {
    if (flag != null && !flag.isBlank()) return Optional.of(new Choice(flag.trim(), Source.FLAG));
    Optional<String> env = environment.get("OPENSHELL_GATEWAY_ENDPOINT");
    if (env.isPresent()) return Optional.of(new Choice(env.get().trim(), Source.ENVIRONMENT));
    return local.running().map(endpoint -> new Choice(endpoint, Source.LOCAL_RUNNING));
  }

  public static Choice choose(String flag, Environment environment, LocalGateway local, PrintWriter progress) {
    Optional<Choice> existing = existing(flag, environment, local);
    if (existing.isPresent()) return existing.get();
    progress.println("Starting local gateway (state: " + local.stateDir() + ")…");
    progress.flush();
    // TLS with the gateway's own CA and user certificates: the CLI finds the files in its state dir.
    String endpoint = local.start(List.of("--port", "0"));
    progress.println("Local gateway listening on " + endpoint);
    progress.flush();
    return new Choice(endpoint, Source.LOCAL_NEW);
  }
}
