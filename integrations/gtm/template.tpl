___TERMS_OF_SERVICE___

By creating or modifying this file you agree to Google Tag Manager's Community
Template Gallery Developer Terms of Service available at
https://developers.google.com/tag-manager/gallery-tos (or such other URL as
Google may provide), as modified from time to time.


___INFO___

{
  "type": "TAG",
  "id": "cvt_temp_public_id",
  "version": 1,
  "securityGroups": [],
  "displayName": "callswap call tracking",
  "categories": ["ANALYTICS", "ATTRIBUTION", "ADVERTISING"],
  "brand": {
    "id": "brand_dummy",
    "displayName": "callswap"
  },
  "description": "GDPR-first call tracking: swaps the phone numbers on your pages for the static tracking number of the visit's source without consent, and for a dynamic pool number only with consent. Loads callswap.js from your callswap server.",
  "containerContexts": [
    "WEB"
  ]
}


___TEMPLATE_PARAMETERS___

[
  {
    "type": "TEXT",
    "name": "serverUrl",
    "displayName": "callswap server URL",
    "simpleValueType": true,
    "help": "Where your callswap server serves callswap.js, e.g. https://track.example.com. https only.",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^https://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~-]+)*/?$"
        ],
        "errorMessage": "An https:// URL without query or fragment, e.g. https://track.example.com"
      }
    ],
    "alwaysInSummary": true
  },
  {
    "type": "TEXT",
    "name": "siteId",
    "displayName": "Site id",
    "simpleValueType": true,
    "help": "The site id from the site config on the callswap server (its \"site\" field).",
    "valueValidators": [
      {
        "type": "NON_EMPTY"
      },
      {
        "type": "REGEX",
        "args": [
          "^[a-z0-9_-]{1,64}$"
        ],
        "errorMessage": "Lower-case letters, digits, - and _ only (1 to 64), as in the site config."
      }
    ],
    "alwaysInSummary": true
  }
]


___SANDBOXED_JS_FOR_WEB_TEMPLATE___

// Loads callswap.js?site=<id> from the operator's server. The SDK itself reads the consent
// signals the site config lists and shows only static numbers until consent, so the tag
// needs no consent of its own; fire it on Initialization - All Pages.
const injectScript = require('injectScript');
const encodeUriComponent = require('encodeUriComponent');
const queryPermission = require('queryPermission');
const logToConsole = require('logToConsole');

const SITE_CHARACTERS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_';

const fail = (reason) => {
  logToConsole('callswap: ' + reason);
  data.gtmOnFailure();
};

let server = data.serverUrl || '';
while (server.length > 0 && server.charAt(server.length - 1) === '/') {
  server = server.slice(0, server.length - 1);
}
const siteId = data.siteId || '';
let siteIdValid = siteId.length > 0 && siteId.length <= 64;
for (let i = 0; i < siteId.length; i++) {
  if (SITE_CHARACTERS.indexOf(siteId.charAt(i)) < 0) siteIdValid = false;
}

if (server.indexOf('https://') !== 0 || server.length <= 8 || server.indexOf('?') >= 0 || server.indexOf('#') >= 0) {
  fail('the server URL must be an https:// URL without query or fragment');
} else if (!siteIdValid) {
  fail('the site id may only have letters, digits, - and _');
} else {
  const url = server + '/callswap.js?site=' + encodeUriComponent(siteId);
  if (queryPermission('inject_script', url)) {
    // The cache token: a second firing on the same page does not load the SDK twice.
    injectScript(url, data.gtmOnSuccess, data.gtmOnFailure, 'callswap');
  } else {
    fail('this container does not allow injecting ' + url);
  }
}


___WEB_PERMISSIONS___

[
  {
    "instance": {
      "key": {
        "publicId": "inject_script",
        "versionId": "1"
      },
      "param": [
        {
          "key": "urls",
          "value": {
            "type": 2,
            "listItem": [
              {
                "type": 1,
                "string": "https://*/*"
              }
            ]
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  },
  {
    "instance": {
      "key": {
        "publicId": "logging",
        "versionId": "1"
      },
      "param": [
        {
          "key": "environments",
          "value": {
            "type": 1,
            "string": "debug"
          }
        }
      ]
    },
    "clientAnnotations": {
      "isEditedByUser": true
    },
    "isRequired": true
  }
]


___TESTS___

scenarios:
- name: Injects callswap.js with the site id and reports success
  code: |-
    mock('injectScript', function (url, onSuccess, onFailure, cacheToken) {
      assertThat(url).isEqualTo('https://track.example.com/callswap.js?site=acme');
      assertThat(cacheToken).isEqualTo('callswap');
      onSuccess();
    });
    runCode({serverUrl: 'https://track.example.com/', siteId: 'acme'});
    assertApi('injectScript').wasCalled();
    assertApi('gtmOnSuccess').wasCalled();
    assertApi('gtmOnFailure').wasNotCalled();
- name: A server behind a path keeps its path
  code: |-
    mock('injectScript', function (url, onSuccess) {
      assertThat(url).isEqualTo('https://example.com/callswap/callswap.js?site=shop_1');
      onSuccess();
    });
    runCode({serverUrl: 'https://example.com/callswap', siteId: 'shop_1'});
    assertApi('gtmOnSuccess').wasCalled();
- name: A script that fails to load reports failure
  code: |-
    mock('injectScript', function (url, onSuccess, onFailure) {
      onFailure();
    });
    runCode({serverUrl: 'https://track.example.com', siteId: 'acme'});
    assertApi('gtmOnFailure').wasCalled();
    assertApi('gtmOnSuccess').wasNotCalled();
- name: A server URL that is not https injects nothing
  code: |-
    runCode({serverUrl: 'http://track.example.com', siteId: 'acme'});
    assertApi('injectScript').wasNotCalled();
    assertApi('gtmOnFailure').wasCalled();
- name: A site id that would change the URL injects nothing
  code: |-
    runCode({serverUrl: 'https://track.example.com', siteId: 'acme&site=other'});
    assertApi('injectScript').wasNotCalled();
    assertApi('gtmOnFailure').wasCalled();


___NOTES___

callswap's Tag Manager template, Apache-2.0. See integrations/gtm/README.md in the callswap repository.
