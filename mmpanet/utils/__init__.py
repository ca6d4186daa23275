# Copyright (c) mmpanet contributors. All rights reserved.
