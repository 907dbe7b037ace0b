"""The serializers this package ships (see ``idmefv2_rs.serializer``)."""
