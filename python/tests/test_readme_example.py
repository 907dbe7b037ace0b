"""The examples of python-idmefv2's README, ported as written.

The example code below (between the PORTED markers) comes from the README
of python-idmefv2 0.8, Copyright (C) 2021 CS GROUP - France, under the
BSD 2-Clause license; it is reproduced here, as the issue asks, to show that
code written for python-idmefv2 runs unchanged with the package name
replaced. The only changes: `from idmefv2 import ...` takes the library
under test (so the same lines also run against python-idmefv2 itself for
comparison), `print` goes to a list, and `data` (left undefined in the
README, "the received data") is given a valid message.

As written, the README message is not valid (its `Version` is '0.1' and its
members are those of an early draft): both libraries print a validation
failure, refuse to serialize it, and unserialize the received data.
"""
import contextlib
import io
import sys

import pytest

import idmefv2_rs
from conftest import FIXTURES, optional

jsonschema = optional("jsonschema")


@contextlib.contextmanager
def library(module):
    """Makes `import idmefv2` give `module` inside the block."""
    saved = sys.modules.get("idmefv2")
    sys.modules["idmefv2"] = module
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["idmefv2"]
        else:
            sys.modules["idmefv2"] = saved


def modelization():
    # PORTED from python-idmefv2's README, "Message modelization"
    # Import the Message class
    from idmefv2 import Message

    # Import other modules if necessary
    import uuid
    from datetime import datetime

    # Keep track of the current date/time for later reference.
    now = datetime.now().isoformat('T')

    # Create the message and set its various properties.
    msg = Message()
    msg['Version'] = '0.1'
    msg['ID'] = str(uuid.uuid4())
    msg['CreateTime'] = now
    msg['DetectTime'] = now
    msg['CategoryRef'] = 'ENISA'
    msg['Category'] = []
    msg['Description'] = 'Someone tried to login as root from 12.34.56.78 '\
                         'port 1806 using the password method'
    msg['Severity'] = 'medium'
    msg['Ref'] = []
    msg['Agent'] = {
        'Name': 'prelude-lml',
        'ID': str(uuid.uuid4()),
        'Category': ['LOG'],
        'IP4': '127.0.0.1',
        'IP6': '::1',
    }
    msg['Source'] = []
    msg['Target'] = []

    # Do something with the message (e.g. send it to a SIEM)
    # END PORTED
    return msg


def validation(msg, print):
    # PORTED from python-idmefv2's README, "Message validation"
    try:
        msg.validate()
    except jsonschema.exceptions.ValidationError as e:
        print("Validation failure: %s" % (e, ))
    else:
        print("The message is valid")
    # END PORTED


def serialization(msg):
    # PORTED from python-idmefv2's README, "Message serialization/unserialization"
    result = msg.serialize('application/json')
    # END PORTED
    return result


def unserialization(data):
    # PORTED from python-idmefv2's README, "Message serialization/unserialization"
    from idmefv2 import Message, SerializedMessage

    # Instantiate a SerializedMessage based on the received data.
    # The first argument specifies the MIME content type for the data.
    payload = SerializedMessage('application/json', data)

    # Unserialize the message for later use
    msg = Message.unserialize(payload)

    # Do something with the message (e.g. store it in a database)
    # END PORTED
    return msg


def run(module):
    """The README's steps with `module` as idmefv2: what was printed, the
    exception serialize() raised, the unserialized message."""
    data = (FIXTURES / "valid" / "minimal.json").read_bytes()
    printed = []
    with library(module):
        msg = modelization()
        validation(msg, printed.append)
        with pytest.raises(Exception) as refused:
            serialization(msg)
        received = unserialization(data)
    return msg, printed, refused.value, received


def test_readme_example_runs_with_the_package_name_replaced():
    msg, printed, refused, received = run(idmefv2_rs)
    assert isinstance(msg, dict) and msg['Agent']['Name'] == 'prelude-lml'
    assert len(printed) == 1 and printed[0].startswith("Validation failure: ")
    assert isinstance(refused, jsonschema.exceptions.ValidationError)
    assert isinstance(received, idmefv2_rs.Message)
    assert received['Analyzer'] == {'Name': 'lab-probe'}
    # The failure names the places, never the values.
    assert '12.34.56.78' not in printed[0] and 'prelude-lml' not in printed[0]


def test_readme_example_behaves_as_with_python_idmefv2():
    reference = optional("idmefv2")
    ours = run(idmefv2_rs)
    theirs = run(reference)
    assert [p.split(":")[0] for p in ours[1]] == [p.split(":")[0] for p in theirs[1]]
    assert isinstance(ours[2], jsonschema.exceptions.ValidationError)
    assert isinstance(theirs[2], jsonschema.exceptions.ValidationError)
    assert dict(ours[3]) == dict(theirs[3])
