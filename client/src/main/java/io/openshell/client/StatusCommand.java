package io.openshell.client;

import io.openshell.client.connection.Api;
import io.openshell.client.connection.Environment;
import io.openshell.protocol.v1.HealthRequest;
import io.openshell.protocol.v1.HealthResponse;
import io.openshell.protocol.v1.ServiceStatus;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/** {@code openshell status}: is the gateway there? Prints {@code Connected} first when it is. */
@Command(name = "status", description = "Check the connection to the gateway.")
final class StatusCommand implements Callable<Integer> {
  private final Environment environment;

  @Mixin
  GatewayOptions gateway;

  @CommandLine.Spec
  CommandLine.Model.CommandSpec spec;

  StatusCommand(Environment environment) {
    this.environment = environment;
  }

  @Override
  public Integer call() {
    try (Api api = gateway.connect(environment, spec.commandLine().getErr())) {
      HealthResponse health = api.await(api.client().health(HealthRequest.getDefaultInstance()), Duration.ofSeconds(10));
      var out = spec.commandLine().getOut();
      out.println(health.getStatus() == ServiceStatus.SERVICE_STATUS_HEALTHY ? "Connected" : "Connected (gateway reports " + health.getStatus() + ")");
      out.println("  gateway: " + api.endpoint());
      out.println("  version: " + health.getVersion());
      out.flush();
      return 0;
    }
  }
}
