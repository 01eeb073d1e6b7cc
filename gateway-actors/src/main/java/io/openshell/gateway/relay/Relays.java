package io.openshell.gateway.relay;

import io.grpc.Status;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxProblem;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;

/**
 * The client side's way to open a relay (SSH tunnel, exec): the node's budget first, then the
 * sandbox, which waits for a session and answers once the supervisor's stream is claimed.
 */
public final class Relays {
  private final ActorSystem<?> system;
  private final ActorRef<RelayBudget.Command> budget;
  private final RelaySettings settings;

  public Relays(ActorSystem<?> system, ActorRef<RelayBudget.Command> budget, RelaySettings settings) {
    this.system = system;
    this.budget = budget;
    this.settings = settings;
  }

  public RelaySettings settings() {
    return settings;
  }

  /** An open in flight; cancel it if the caller goes away before the relay is claimed. */
  public record Opening(String channelId, CompletionStage<RelayConnection> connection, Runnable abandon) {}

  public Opening open(String sandboxId, Duration sessionWait) {
    String channelId = UUID.randomUUID().toString();
    var sandbox = ClusterSharding.get(system).entityRefFor(Sandbox.ENTITY_KEY, sandboxId);
    // Completed once OpenRelay has gone to the sandbox: an abandon sent before it would overtake the
    // open, find nothing to cancel, and leave the open holding its slot with nobody waiting.
    CompletableFuture<Void> sentToSandbox = new CompletableFuture<>();
    CompletionStage<RelayConnection> connection = AskPattern.<RelayBudget.Command, Boolean>ask(
            budget, RelayBudget.Acquire::new, Duration.ofSeconds(10), system.scheduler())
        .thenCompose(granted -> {
          if (!granted) {
            return CompletableFuture.<RelayConnection>failedFuture(new SandboxProblem(Status.Code.RESOURCE_EXHAUSTED,
                "gateway relay capacity reached (" + settings.maxPendingPerNode() + " in flight)"));
          }
          // The sandbox answers within sessionWait + claim timeout (+ its 2 s backstop).
          Duration patience = sessionWait.plus(settings.claimTimeout()).plus(Duration.ofSeconds(10));
          CompletionStage<RelayConnection> answer = sandbox.<RelayConnection>askWithStatus(
                  replyTo -> new Sandbox.OpenRelay(channelId, sessionWait, replyTo), patience)
              .whenComplete((ok, failure) -> budget.tell(RelayBudget.Release.INSTANCE));
          sentToSandbox.complete(null);
          return answer;
        });
    // Refused by the budget: nothing was sent, so there is nothing to abandon.
    return new Opening(channelId, connection,
        () -> sentToSandbox.thenRun(() -> sandbox.tell(new Sandbox.AbandonRelay(channelId))));
  }
}
