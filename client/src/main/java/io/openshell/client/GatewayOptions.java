package io.openshell.client;

import io.openshell.client.connection.Api;
import io.openshell.client.connection.Environment;
import io.openshell.client.connection.GatewaySelection;
import io.openshell.client.gateway.LocalGateway;
import java.io.PrintWriter;
import picocli.CommandLine.Option;

/** The {@code --gateway-endpoint} option every API command shares, and the connection it leads to. */
public final class GatewayOptions {
  @Option(names = "--gateway-endpoint", description = "Gateway URL (default: $OPENSHELL_GATEWAY_ENDPOINT, else the local gateway).")
  String endpoint;

  /** Connects, starting a local gateway in the background when none is chosen or running. */
  public Api connect(Environment environment, PrintWriter progress) {
    return Api.to(choose(environment, progress), environment);
  }

  /** The gateway (and its name), starting a local gateway in the background when none is chosen or running. */
  public GatewaySelection.Choice choose(Environment environment, PrintWriter progress) {
    return GatewaySelection.choose(endpoint, environment, new LocalGateway(environment), progress);
  }
}
