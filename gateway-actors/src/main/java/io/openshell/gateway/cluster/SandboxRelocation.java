package io.openshell.gateway.cluster;

import io.openshell.gateway.compute.ComputeRuntime;
import io.openshell.gateway.sandbox.SandboxCatalog;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Behavior;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.cluster.ClusterEvent;
import org.apache.pekko.cluster.Member;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.cluster.typed.Subscribe;

/**
 * When a node leaves or is downed, its Sandbox entities are gone until something addresses them, and
 * with the process driver their supervisors died with the node. The oldest surviving node then
 * reconciles every sandbox: each entity starts again on a survivor (recovered from the journal) and
 * asks its node's driver to run the sandbox, which is a no-op where it already runs.
 */
public final class SandboxRelocation {
  private SandboxRelocation() {}

  public static Behavior<ClusterEvent.MemberRemoved> create(ActorRef<SandboxCatalog.Command> catalog) {
    return Behaviors.setup(context -> {
      Cluster cluster = Cluster.get(context.getSystem());
      cluster.subscriptions().tell(Subscribe.create(context.getSelf(), ClusterEvent.MemberRemoved.class));
      return Behaviors.receiveMessage(removed -> {
        Member self = cluster.selfMember();
        boolean oldest = self.status() == MemberStatus.up() && java.util.stream.StreamSupport
            .stream(cluster.state().getMembers().spliterator(), false)
            .filter(m -> m.status() == MemberStatus.up() && !m.equals(self))
            .noneMatch(m -> m.isOlderThan(self));
        if (oldest) {
          context.getLog().info("cluster node {} removed; reconciling its sandboxes on the survivors", removed.member().address());
          ComputeRuntime.reconcileAll(context.getSystem(), catalog, "node " + removed.member().address() + " removed");
        }
        return Behaviors.same();
      });
    });
  }
}
