package io.openshell.supervisor.relay;

import static io.openshell.supervisor.relay.TestServiceMethods.method;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.MethodDescriptor;
import io.grpc.Metadata;
import io.openshell.supervisor.SupervisorSettings;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class RelaySendAheadTest {

  /** The call options the channel below the interceptor was asked for. */
  private static CallOptions optionsSeenBelow(RelaySendAhead sendAhead, MethodDescriptor<Integer, Integer> method) {
    AtomicReference<CallOptions> seen = new AtomicReference<>();
    Channel channel = new Channel() {
      @Override
      public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> descriptor, CallOptions options) {
        seen.set(options);
        return new ClientCall<>() {
          @Override
          public void start(Listener<R> listener, Metadata headers) {}

          @Override
          public void request(int count) {}

          @Override
          public void cancel(String message, Throwable cause) {}

          @Override
          public void halfClose() {}

          @Override
          public void sendMessage(Q message) {}
        };
      }

      @Override
      public String authority() {
        return "test";
      }
    };
    sendAhead.interceptCall(method, CallOptions.DEFAULT.withWaitForReady(), channel);
    return seen.get();
  }

  @Test
  void relayCallsMayQueueTheConfiguredBytesBeforeTheyAreNotReady() {
    CallOptions options = optionsSeenBelow(new RelaySendAhead("test.Service/Relay", 256 * 1024), method("Relay"));
    assertEquals(256 * 1024, options.getOnReadyThreshold());
    assertEquals(true, options.isWaitForReady(), "the caller's other options are kept");
  }

  @Test
  void otherCallsKeepGrpcsThreshold() {
    assertNull(optionsSeenBelow(new RelaySendAhead("test.Service/Relay", 256 * 1024), method("Other")).getOnReadyThreshold());
  }

  @Test
  void theSettingDefaultsTo256KiBAndMustBePositive() {
    SupervisorSettings settings = SupervisorSettings.fromConfig(
        ConfigFactory.parseString("openshell.supervisor { sandbox-id = sbx, endpoint = \"http://127.0.0.1:1\" }").withFallback(ConfigFactory.load()));
    assertEquals(256 * 1024, settings.relaySendAheadBytes());
    assertThrows(IllegalArgumentException.class, () -> new RelaySendAhead("test.Service/Relay", 0));
  }
}
