package io.openshell.gateway.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.serialization.SerializationExtension;
import org.apache.pekko.serialization.Serializers;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class SandboxProblemSerializerTest {
  private static final ActorTestKit testKit = ActorTestKit.create();

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  @Test
  void aRefusalInAStatusReplyCrossesNodesWithItsCodeAndMessage() throws Exception {
    var serialization = SerializationExtension.get(org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(testKit.system()));
    StatusReply<Object> reply = StatusReply.error(new SandboxProblem(Status.Code.ALREADY_EXISTS, "sandbox 'race' already exists"));
    var serializer = serialization.findSerializerFor(reply);
    byte[] bytes = serializer.toBinary(reply);
    Object back = serialization.deserialize(bytes, serializer.identifier(), Serializers.manifestFor(serializer, reply)).get();
    StatusReply<?> restored = (StatusReply<?>) back;
    SandboxProblem problem = assertInstanceOf(SandboxProblem.class, restored.getError());
    assertEquals(Status.Code.ALREADY_EXISTS, problem.code());
    assertEquals("sandbox 'race' already exists", problem.getMessage());
  }
}
