package io.openshell.gateway.relay;

import com.google.protobuf.WireFormat;
import io.openshell.protocol.v1.OpenShell;
import io.openshell.protocol.v1.RelayFrame;
import java.io.InputStream;
import org.apache.pekko.grpc.ProtobufSerializer;
import org.apache.pekko.grpc.javadsl.GoogleProtobufSerializer;
import org.apache.pekko.util.ByteString;

/**
 * {@code RelayStream}'s frames to and from their protobuf encoding without copying the relayed bytes.
 *
 * <p>The generic serializer copied each data frame twice on the way in ({@code ByteString.toArray}, then
 * protobuf's parser copies the bytes field) and once on the way out ({@code toByteArray}, a fresh array and
 * encoder per frame): the largest gateway-side costs in the bulk relay profiles (docs/benchmarks.md). A data
 * frame is one length-delimited field, so here its header is written and read by hand and the data stays
 * where it is: a slice of the request's bytes on the way in, the stream element's arrays on the way out.
 * The bytes on the wire are exactly protobuf's encoding of {@link RelayFrame}; anything that is not a
 * single data field (init, unknown fields, several fields, malformed input) goes through the generated
 * code, so results and errors are the generated parser's.
 *
 * <p>Why a static field: pekko-grpc's generated handler takes the serializer from
 * {@code OpenShell.Serializers.RelayFrameSerializer}, a public non-final field it reads on every
 * {@code RelayStream} request, and offers no other way to give a method its own marshalling.
 */
public final class RelayFrameSerializer implements ProtobufSerializer<RelayFrame> {
  public static final RelayFrameSerializer INSTANCE = new RelayFrameSerializer();

  /** Field 2 (data), length-delimited: one byte, 0x12. */
  private static final int DATA_TAG = (RelayFrame.DATA_FIELD_NUMBER << 3) | WireFormat.WIRETYPE_LENGTH_DELIMITED;
  /** A length that fits an int takes at most five varint bytes. */
  private static final int MAX_LENGTH_BYTES = 5;

  private final ProtobufSerializer<RelayFrame> generated = new GoogleProtobufSerializer<>(RelayFrame.parser());

  private RelayFrameSerializer() {}

  /** Makes the generated gRPC handlers of this JVM use this serializer for {@code RelayStream}. */
  public static void install() {
    OpenShell.Serializers.RelayFrameSerializer = INSTANCE;
  }

  @Override
  public ByteString serialize(RelayFrame frame) {
    if (frame.getPayloadCase() != RelayFrame.PayloadCase.DATA || frame.getUnknownFields().getSerializedSize() != 0) {
      return generated.serialize(frame);
    }
    ByteString data = RelayBytes.fromFrameData(frame.getData());
    return ByteString.fromArrayUnsafe(header(data.size())).concat(data);
  }

  private static byte[] header(int length) {
    byte[] header = new byte[1 + com.google.protobuf.CodedOutputStream.computeUInt32SizeNoTag(length)];
    header[0] = (byte) DATA_TAG;
    int at = 1;
    int rest = length;
    while ((rest & ~0x7f) != 0) {
      header[at++] = (byte) ((rest & 0x7f) | 0x80);
      rest >>>= 7;
    }
    header[at] = (byte) rest;
    return header;
  }

  @Override
  public RelayFrame deserialize(ByteString bytes) {
    int dataStart = dataStart(bytes);
    if (dataStart < 0) return generated.deserialize(bytes);
    return RelayFrame.newBuilder().setData(RelayBytes.toFrameData(bytes.drop(dataStart))).build();
  }

  /**
   * Where the data starts if {@code bytes} is exactly one data field (its tag, its length, and that many
   * bytes to the end), else -1.
   */
  private static int dataStart(ByteString bytes) {
    int size = bytes.size();
    if (size < 2 || bytes.apply(0) != DATA_TAG) return -1;
    long length = 0;
    for (int at = 1; at < size && at <= MAX_LENGTH_BYTES; at++) {
      int next = bytes.apply(at);
      length |= (long) (next & 0x7f) << (7 * (at - 1));
      if ((next & 0x80) == 0) return length == size - (at + 1) ? at + 1 : -1;
    }
    return -1;
  }

  @Override
  public RelayFrame deserialize(InputStream stream) {
    return generated.deserialize(stream);
  }
}
