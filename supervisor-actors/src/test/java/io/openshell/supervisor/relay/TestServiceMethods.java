package io.openshell.supervisor.relay;

import io.grpc.MethodDescriptor;
import java.io.ByteArrayInputStream;
import java.io.InputStream;

/** Bidi-streaming methods of a made-up {@code test.Service} for the interceptor tests; their messages carry nothing. */
final class TestServiceMethods {
  private TestServiceMethods() {}

  private static final MethodDescriptor.Marshaller<Integer> INTS = new MethodDescriptor.Marshaller<>() {
    @Override
    public InputStream stream(Integer value) {
      return new ByteArrayInputStream(new byte[0]);
    }

    @Override
    public Integer parse(InputStream stream) {
      return 0;
    }
  };

  /** {@code test.Service/<name>}. */
  static MethodDescriptor<Integer, Integer> method(String name) {
    return MethodDescriptor.<Integer, Integer>newBuilder().setType(MethodDescriptor.MethodType.BIDI_STREAMING)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("test.Service", name))
        .setRequestMarshaller(INTS).setResponseMarshaller(INTS).build();
  }
}
