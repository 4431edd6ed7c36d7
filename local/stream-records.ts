// A DynamoDB Streams record as the SDK reads it, turned into the record Lambda's event source mapping hands
// to the projector (the `DynamoDBStreamEvent` shape): used by the local stream poller (local/poller.ts).

import type {
  _Record as StreamsRecord,
  AttributeValue as StreamsAttributeValue,
} from "@aws-sdk/client-dynamodb-streams";
import type { AttributeValue as LambdaAttributeValue, DynamoDBRecord } from "aws-lambda";

/** Lambda delivers binaries as base64 text where the SDK gives bytes; everything else is the same. */
function toLambdaAttributes(
  image: Record<string, StreamsAttributeValue> | undefined,
): Record<string, LambdaAttributeValue> | undefined {
  if (image === undefined) return undefined;
  const convert = (value: StreamsAttributeValue): LambdaAttributeValue => {
    if (value.B !== undefined) return { B: Buffer.from(value.B).toString("base64") };
    if (value.BS !== undefined) return { BS: value.BS.map((bytes) => Buffer.from(bytes).toString("base64")) };
    if (value.L !== undefined) return { L: value.L.map(convert) };
    if (value.M !== undefined) return { M: toLambdaAttributes(value.M) ?? {} };
    return value as LambdaAttributeValue;
  };
  return Object.fromEntries(Object.entries(image).map(([name, value]) => [name, convert(value)]));
}

/**
 * A record as the event source mapping hands it to Lambda: with the stream ARN (DynamoDB Local's records
 * lack it) and ApproximateCreationDateTime in epoch seconds (the SDK gives a Date).
 */
export function toLambdaRecord(record: StreamsRecord, streamArn: string): DynamoDBRecord {
  const stream = record.dynamodb ?? {};
  const created = stream.ApproximateCreationDateTime;
  return {
    eventID: record.eventID,
    eventName: record.eventName,
    eventVersion: record.eventVersion,
    eventSource: record.eventSource,
    awsRegion: record.awsRegion,
    eventSourceARN: streamArn,
    dynamodb: {
      ...(created === undefined ? {} : { ApproximateCreationDateTime: created.getTime() / 1000 }),
      Keys: toLambdaAttributes(stream.Keys),
      NewImage: toLambdaAttributes(stream.NewImage),
      OldImage: toLambdaAttributes(stream.OldImage),
      SequenceNumber: stream.SequenceNumber,
      SizeBytes: stream.SizeBytes,
      StreamViewType: stream.StreamViewType,
    },
  };
}
